// Mutated HLS playlists, drawn from a seed and one of the committed fixtures: the hostile origin
// serves them, the proxy must rewrite each or refuse it with a JSON error, and stay responsive.
import type { SeededRandom } from '../harness/random';

/** How far a mutation may go: the short mode stays small, the long one reaches the limits. */
export interface MutationScale {
  /** Most URI lines added to one playlist. */
  maxExtraUris: number;
  /** Longest EXT-X-DEFINE value, and most references to it on one line. */
  maxDefineValue: number;
  maxReferences: number;
  /** Longest single line. */
  maxLine: number;
}

export const SHORT_SCALE: MutationScale = { maxExtraUris: 2000, maxDefineValue: 4096, maxReferences: 16, maxLine: 64 * 1024 };
export const LONG_SCALE: MutationScale = { maxExtraUris: 50_000, maxDefineValue: 128 * 1024, maxReferences: 64, maxLine: 1_200_000 };

const ODD_URIS = [
  'data:text/plain,hello', 'javascript:alert(1)', 'file:///etc/passwd', '//evil.example/x.ts', 'http://169.254.169.254/latest/', 'http://[::1]:1/x.ts',
  'http://0x7f000001/x.ts', 'http://127.0.0.2/x.ts', 'https://127.0.0.1:1/x.ts', '../../../../x.ts', 'a b.ts', '%zz.ts', 'ü/ß.ts', 'x.ts?a=1#frag',
  '?only=query', '#', '   ', 'x.ts\u0000y', 'http://user:pass@127.0.0.1/x.ts', 'ftp://127.0.0.1/x.ts', 'HTTP://127.0.0.1/x.ts', '\\\\server\\share',
];
const TAGS_WITH_URIS = [
  (u: string) => `#EXT-X-KEY:METHOD=AES-128,URI="${u}",IV=0x00000000000000000000000000000001`,
  (u: string) => `#EXT-X-MAP:URI="${u}",BYTERANGE="720@0"`,
  (u: string) => `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",URI="${u}"`,
  (u: string) => `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="${u}"`,
  (u: string) => `#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="${u}"`,
  (u: string) => `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${u}",BYTERANGE-START=0`,
  (u: string) => `#EXT-X-PART:DURATION=1.0,URI="${u}",BYTERANGE=100@0`,
  (u: string) => `#EXT-X-RENDITION-REPORT:URI="${u}",LAST-MSN=1`,
  (u: string) => `#EXT-X-CONTENT-STEERING:SERVER-URI="${u}"`,
  (u: string) => `#EXT-X-SESSION-DATA:DATA-ID="x",URI="${u}"`,
  (u: string) => `#EXT-X-DATERANGE:ID="d",START-DATE="2026-01-01T00:00:00Z",X-ASSET-URI="${u}"`,
  () => '#EXT-X-DEFINE:IMPORT="v"',
  () => '#EXT-X-DEFINE:QUERYPARAM="t"',
  () => '#EXT-X-BYTERANGE:99999999999999999999@0',
  () => '#EXT-X-STREAM-INF:BANDWIDTH=,,,RESOLUTION=0x0',
  () => '#EXTINF:-1,',
  () => '#EXT-X-ENDLIST',
];

function uriLineIndexes(lines: readonly string[]): number[] {
  return lines.flatMap((line, index) => (line !== '' && !line.startsWith('#') ? [index] : []));
}

function oddUri(random: SeededRandom, scale: MutationScale): string {
  return random.chance(0.1) ? `x${random.text(random.int(1000, Math.min(scale.maxLine, 40_000)))}.ts` : random.pick(ODD_URIS);
}

/** A variable defined once and referenced many times on one URI line: the expansion cost. */
function amplify(random: SeededRandom, lines: string[], scale: MutationScale): void {
  const value = 'v'.repeat(random.int(1, scale.maxDefineValue));
  const refs = random.int(1, scale.maxReferences);
  lines.splice(1, 0, `#EXT-X-DEFINE:NAME="big",VALUE="${value}"`);
  const uris = uriLineIndexes(lines);
  const at = uris.length > 0 ? random.pick(uris) : lines.length;
  lines.splice(at, 1, `${'{$big}'.repeat(refs)}.ts`);
  if (random.chance(0.3)) lines.splice(2, 0, `#EXT-X-DEFINE:NAME="undefined-ref",VALUE="{$nope}"`, '{$missing}.ts');
}

/** One mutation applied in place to the lines of a playlist. */
function mutateLines(random: SeededRandom, lines: string[], scale: MutationScale): void {
  const uris = uriLineIndexes(lines);
  switch (random.int(0, 9)) {
    case 0: return amplify(random, lines, scale);
    case 1: {
      const count = random.int(1, scale.maxExtraUris);
      const extra: string[] = [];
      for (let i = 0; i < count; i += 1) extra.push('#EXTINF:1,', random.chance(0.5) ? 'a' : `s${i}.ts`);
      lines.splice(lines.length - 1, 0, ...extra);
      return;
    }
    case 2: if (uris.length > 0) lines[random.pick(uris)] = oddUri(random, scale); return;
    case 3: lines.splice(random.int(1, lines.length), 0, random.pick(TAGS_WITH_URIS)(random.chance(0.5) ? oddUri(random, scale) : 'k.bin')); return;
    case 4: {
      const at = random.int(0, lines.length - 1);
      lines[at] = lines[at]!.replace('"', '').replace('URI=', random.pick(['URI=URI=', 'uri=', 'URI=""', 'URI="']));
      return;
    }
    case 5: {
      const at = random.int(0, lines.length - 1);
      if (random.chance(0.5)) lines.splice(at, 1);
      else lines.splice(at, 0, lines[at]!);
      return;
    }
    case 6: lines[random.int(0, lines.length - 1)] += random.bytes(random.int(1, 16)).toString('latin1'); return;
    case 7: lines.splice(random.int(1, lines.length), 0, `#EXT-X-X-LONG:${'z'.repeat(random.int(1000, scale.maxLine))}`); return;
    case 8: if (lines[0]?.startsWith('#EXTM3U')) lines[0] = random.pick(['', '\uFEFF#EXTM3U', '#EXTM3U8', 'EXTM3U']); return;
    default: {
      const a = random.int(0, lines.length - 1);
      const b = random.int(0, lines.length - 1);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    }
  }
}

/** A mutated playlist from `base` (a fixture's text): 1 to 4 mutations, then maybe odd line ends or a cut. */
export function mutatePlaylist(random: SeededRandom, base: string, scale: MutationScale): Buffer {
  const lines = base.split('\n');
  const count = random.int(1, 4);
  for (let i = 0; i < count; i += 1) mutateLines(random, lines, scale);
  const newline = random.pick(['\n', '\n', '\n', '\r\n', '\r']);
  let text = Buffer.from(lines.join(newline), random.chance(0.05) ? 'latin1' : 'utf8');
  if (random.chance(0.1)) text = text.subarray(0, random.int(0, text.length));
  return text;
}
