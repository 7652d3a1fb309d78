// Requests against the proxy's HTTP surface, drawn from a seed: methods, request targets, headers,
// entry signatures, sealed tokens and ranges, well-formed and not. Each is the exact bytes sent.
import type { SeededRandom } from '../harness/random';

/** Valid material to start from: mutations of what works reach deeper than random bytes. */
export interface SurfaceSeeds {
  /** `host:port` of the proxy (the Host header). */
  host: string;
  /** Path and query of signed entry URLs (`/strm/stream?...&sig=`). */
  entries: readonly string[];
  /** Paths of sealed links (`/strm/proxy/<token>/<name>`), from rewritten playlists. */
  links: readonly string[];
}

/** One fuzzed request. */
export interface FuzzRequest {
  /** What kind of mutation it is, for the figures (`method`, `target`, `header`, ...). */
  kind: string;
  /** The method as sent (decides whether the answer has a body). */
  method: string;
  bytes: Buffer;
}

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', 'Get', 'PROPFIND', 'GETT', 'G ET', 'M-SEARCH', ''];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTPS/1.1', 'http/1.1', ''];
const FIXED_TARGETS = [
  '/', '*', '/healthz', '/readyz', '/metrics', '/status', '/status.json', '/strm', '/strm/stream', '/strm/proxy', '/strm/proxy/', '/strm/proxy/x',
  '/strm/proxy/x/y', '/strm/proxy/%zz/a.ts', '/strm/proxy/..%2f..%2fetc/passwd', '/STRM/STREAM', '/strm/stream/', '//strm/stream',
  'http://127.0.0.1/strm/stream', 'http://169.254.169.254/latest/meta-data/', '127.0.0.1:80', '/%00', '/strm/stream?%', '/strm/stream?site=&slug=',
];
const RANGES = [
  'bytes=0-', 'bytes=0-0', 'bytes=-1', 'bytes=-0', 'bytes=100-50', 'bytes=65535-', 'bytes=0-1,5-9', 'bytes=0-1,0-1,0-1', 'bytes=99999999999999999999-',
  'bytes=-99999999999999999999', 'bytes= 0 - 10 ', 'bytes=a-b', 'items=0-1', 'bytes=0-9223372036854775807', 'bytes=1-2-3', 'bytes=', '',
];

function mutateText(random: SeededRandom, text: string): string {
  if (text.length === 0) return random.text(random.int(1, 40));
  const at = random.int(0, text.length - 1);
  switch (random.int(0, 6)) {
    case 0: return text.slice(0, at); // truncated
    case 1: return text.slice(0, at) + random.text(1) + text.slice(at + 1); // one character changed
    case 2: return text + random.text(random.int(1, 64));
    case 3: return text.slice(0, at) + text.slice(at + 1);
    case 4: return text.slice(0, at) + '%' + random.text(2, '0123456789abcdefgz%') + text.slice(at);
    case 5: return text.replace(/[A-Za-z]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));
    default: return text.slice(0, at) + String.fromCharCode(random.int(0, 31)) + text.slice(at);
  }
}

/** A request target: a valid one, a mutated one, a fixed odd one or a very long one. */
function target(random: SeededRandom, seeds: SurfaceSeeds): string {
  const roll = random.int(0, 9);
  if (roll <= 1 && seeds.entries.length > 0) return random.pick(seeds.entries);
  if (roll <= 3 && seeds.links.length > 0) return random.pick(seeds.links);
  if (roll <= 5 && seeds.entries.length > 0) return mutateText(random, random.pick(seeds.entries));
  if (roll <= 7 && seeds.links.length > 0) return mutateText(random, random.pick(seeds.links));
  if (roll === 8) return random.pick(FIXED_TARGETS);
  return `/strm/proxy/${random.text(random.int(1, 20_000))}/${random.text(random.int(1, 200))}`;
}

/** Extra header lines: ranges, conditionals, forwarded headers, CORS, framing conflicts, oversize. */
function headerLines(random: SeededRandom): string[] {
  const lines: string[] = [];
  const count = random.int(0, 4);
  for (let i = 0; i < count; i += 1) {
    switch (random.int(0, 13)) {
      case 0: case 1: lines.push(`Range: ${random.pick(RANGES)}`); break;
      case 2: lines.push(`If-Range: ${random.pick(['"x"', 'W/"x"', 'Tue, 01 Dec 2026 00:00:00 GMT', 'garbage', ''])}`); break;
      case 3: lines.push(`If-None-Match: ${random.pick(['*', '"x"', 'W/"a", "b"', ''])}`); break;
      case 4: lines.push(`If-Modified-Since: ${random.pick(['Tue, 01 Dec 2026 00:00:00 GMT', 'yesterday', '0'])}`); break;
      case 5: lines.push(`X-Forwarded-Host: ${random.pick(['evil.example', 'a b', 'x:99999', '[::1', '', 'h'.repeat(300)])}`); break;
      case 6: lines.push(`X-Forwarded-Proto: ${random.pick(['https', 'javascript', 'http,https', ''])}`, `X-Forwarded-Prefix: ${random.pick(['/anime', '../', '//x', '/a?b', '%2e'])}`); break;
      case 7: lines.push(`Forwarded: ${random.pick(['for=1;proto=https;host=a.example', 'host="', 'proto=ftp', ';;;'])}`); break;
      case 8: lines.push(`Origin: ${random.pick(['http://evil.example', 'null', 'https://player.example'])}`); break;
      case 9: lines.push('Transfer-Encoding: chunked', 'Content-Length: 5'); break;
      case 10: lines.push(`Content-Length: ${random.pick(['0', '-1', '99999999999', 'abc', '1, 2'])}`); break;
      case 11: lines.push(`X-Big: ${'a'.repeat(random.pick([100, 9000, 17_000, 70_000]))}`); break;
      case 12: lines.push(`X-Ctl: a${String.fromCharCode(random.pick([0, 1, 8, 10, 13, 127]))}b`); break;
      default: lines.push(`Expect: ${random.pick(['100-continue', 'nothing'])}`, `Connection: ${random.pick(['upgrade', 'close', 'keep-alive, x'])}`, 'Upgrade: h2c'); break;
    }
  }
  return lines;
}

/** One request drawn from `random`. */
export function fuzzRequest(random: SeededRandom, seeds: SurfaceSeeds): FuzzRequest {
  const roll = random.int(0, 19);
  if (roll === 0) return { kind: 'garbage', method: 'GET', bytes: random.bytes(random.int(1, 512)) };
  const method = roll <= 2 ? random.pick(METHODS) : random.chance(0.85) ? 'GET' : 'HEAD';
  const version = roll <= 4 ? random.pick(VERSIONS) : 'HTTP/1.1';
  const path = method === 'CONNECT' ? random.pick(['127.0.0.1:443', seeds.host, 'example.com:80']) : target(random, seeds);
  const host = random.chance(0.05) ? [] : [`Host: ${random.chance(0.05) ? random.text(8) : seeds.host}`];
  const lines = [`${method} ${path} ${version}`, ...host, 'Connection: close', ...headerLines(random)];
  const kind = roll <= 2 ? 'method' : roll <= 4 ? 'version' : path.startsWith('/strm/proxy/') ? 'token' : path.startsWith('/strm/stream') ? 'entry' : 'target';
  const body = lines.some((line) => line.startsWith('Transfer-Encoding')) ? '0\r\n\r\n' : '';
  return { kind, method, bytes: Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1') };
}
