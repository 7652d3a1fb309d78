import { describe, expect, test } from 'vitest';
import { MAX_REFERENCE_BYTES, parseForwarded, proxyReference, referenceBase, referenceTooLong, type BaseRequest, type ReferenceBase } from '../src/reference-base';

const render = (request: Omit<BaseRequest, 'encrypted'> & { encrypted?: boolean }, configured?: string) =>
  `referenceBase(${JSON.stringify(request)}${configured !== undefined ? `, ${JSON.stringify(configured)}` : ''})`;

// Each row: the request's headers (and the configured STRM_PUBLIC_BASE_URL), the base it gets.
const cases: Array<[Omit<BaseRequest, 'encrypted'> & { encrypted?: boolean }, string | undefined, ReferenceBase]> = [
  // A player opening the entry URL itself, and a relay that fetches it with the .strm URL's Host.
  [{ host: 'nas:8080' }, undefined, { kind: 'fromRequest', base: 'http://nas:8080' }],
  [{ host: 'NAS.lan' }, undefined, { kind: 'fromRequest', base: 'http://nas.lan' }],
  [{ host: '192.168.1.5:8080' }, undefined, { kind: 'fromRequest', base: 'http://192.168.1.5:8080' }],
  [{ host: '[::1]:8080' }, undefined, { kind: 'fromRequest', base: 'http://[::1]:8080' }],
  [{ host: 'strm_proxy:8080' }, undefined, { kind: 'fromRequest', base: 'http://strm_proxy:8080' }],
  [{ host: 'nas:8443', encrypted: true }, undefined, { kind: 'fromRequest', base: 'https://nas:8443' }],
  // HTTP/1.0 without Host: relative references, as before.
  [{}, undefined, { kind: 'relative' }],
  [{ host: '' }, undefined, { kind: 'relative' }],
  // STRM_PUBLIC_BASE_URL wins over everything, and nothing is read (not even to refuse it).
  [{ host: 'nas:8080', 'x-forwarded-host': 'bad host' }, 'https://media.example/strm', { kind: 'configured', base: 'https://media.example/strm' }],
  // nginx with the README's snippet (Host rewritten, the public name in X-Forwarded-Host).
  [
    { host: 'media.example', 'x-forwarded-host': 'media.example', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/anime' },
    undefined,
    { kind: 'fromRequest', base: 'https://media.example/anime' },
  ],
  [{ host: 'strm:8080', 'x-forwarded-host': 'media.example:8443', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/anime/' }, undefined, { kind: 'fromRequest', base: 'https://media.example:8443/anime' }],
  // Traefik: Host kept, X-Forwarded-Port alongside a host without port; default ports dropped.
  [{ host: 'media.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-forwarded-prefix': '/anime' }, undefined, { kind: 'fromRequest', base: 'https://media.example/anime' }],
  [{ host: 'media.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '8443' }, undefined, { kind: 'fromRequest', base: 'https://media.example:8443' }],
  [{ host: 'media.example:9000', 'x-forwarded-port': '8443' }, undefined, { kind: 'fromRequest', base: 'http://media.example:9000' }],
  // A chain of proxies appends: the first value is the one the client used.
  [{ host: 'strm:8080', 'x-forwarded-host': 'media.example, inner.lan', 'x-forwarded-proto': 'https, http' }, undefined, { kind: 'fromRequest', base: 'https://media.example' }],
  // RFC 7239: the first element's host and proto; it wins over X-Forwarded-*, per parameter.
  [{ host: 'strm:8080', forwarded: 'for=192.0.2.60;proto=https;host=media.example, for=10.0.0.1;host=inner' }, undefined, { kind: 'fromRequest', base: 'https://media.example' }],
  [{ host: 'strm:8080', forwarded: 'proto=https;host="[2001:db8::1]:8443"', 'x-forwarded-prefix': '/anime' }, undefined, { kind: 'fromRequest', base: 'https://[2001:db8::1]:8443/anime' }],
  [{ host: 'strm:8080', forwarded: 'for=192.0.2.60', 'x-forwarded-host': 'media.example', 'x-forwarded-proto': 'https' }, undefined, { kind: 'fromRequest', base: 'https://media.example' }],
  [{ host: 'strm:8080', forwarded: 'proto=http;host=a.example', 'x-forwarded-host': 'b.example', 'x-forwarded-proto': 'https' }, undefined, { kind: 'fromRequest', base: 'http://a.example' }],
  [{ host: 'strm:8080', forwarded: 'Proto=HTTPS; Host=media.example' }, undefined, { kind: 'fromRequest', base: 'https://media.example' }],
  // Malformed values are refused, naming the header.
  [{ host: 'nas:8080"evil' }, undefined, { kind: 'invalid', header: 'host', reason: 'expected host[:port], got "nas:8080\\"evil"' }],
  [{ host: 'nas:99999' }, undefined, { kind: 'invalid', header: 'host', reason: 'expected host[:port], got "nas:99999"' }],
  [{ host: 'a', 'x-forwarded-host': 'evil.example/path' }, undefined, { kind: 'invalid', header: 'x-forwarded-host', reason: 'expected host[:port], got "evil.example/path"' }],
  [{ host: 'a', 'x-forwarded-host': 'user@evil.example' }, undefined, { kind: 'invalid', header: 'x-forwarded-host', reason: 'expected host[:port], got "user@evil.example"' }],
  [{ host: 'a', 'x-forwarded-proto': 'javascript' }, undefined, { kind: 'invalid', header: 'x-forwarded-proto', reason: 'the scheme must be http or https, got "javascript"' }],
  [{ host: 'a', 'x-forwarded-port': '0' }, undefined, { kind: 'invalid', header: 'x-forwarded-port', reason: 'expected a port number, got "0"' }],
  [{ host: 'a', 'x-forwarded-prefix': 'anime' }, undefined, { kind: 'invalid', header: 'x-forwarded-prefix', reason: 'expected a path such as /anime, got "anime"' }],
  [{ host: 'a', 'x-forwarded-prefix': '/a"b' }, undefined, { kind: 'invalid', header: 'x-forwarded-prefix', reason: 'expected a path such as /anime, got "/a\\"b"' }],
  [{ host: 'a', 'x-forwarded-prefix': '/a/../b' }, undefined, { kind: 'invalid', header: 'x-forwarded-prefix', reason: 'expected a path such as /anime, got "/a/../b"' }],
  [{ host: 'a', 'x-forwarded-prefix': '/a?x=1' }, undefined, { kind: 'invalid', header: 'x-forwarded-prefix', reason: 'expected a path such as /anime, got "/a?x=1"' }],
  [{ host: 'a', forwarded: 'host=media.example;host=other' }, undefined, { kind: 'invalid', header: 'forwarded', reason: 'host twice in one element' }],
  [{ host: 'a', forwarded: 'host="media.example' }, undefined, { kind: 'invalid', header: 'forwarded', reason: 'an unterminated quoted value' }],
  [{ host: 'a', forwarded: 'garbage' }, undefined, { kind: 'invalid', header: 'forwarded', reason: 'expected name=value pairs, got "garbage"' }],
  [{ host: 'a', forwarded: 'proto=ftp' }, undefined, { kind: 'invalid', header: 'forwarded', reason: 'the scheme must be http or https, got "ftp"' }],
  [{ host: 'a', forwarded: 'host="evil\r\n#EXT"' }, undefined, { kind: 'invalid', header: 'forwarded', reason: 'expected host[:port], got "evil\\r\\n#EXT"' }],
];

describe('referenceBase: where playlist URIs point', () => {
  test.each(cases.map(([request, configured, expected]) => [render(request, configured), request, configured, expected] as const))('%s', (_name, request, configured, expected) => {
    expect(referenceBase({ encrypted: false, ...request }, configured)).toEqual(expected);
  });

  test('a header given twice (Node joins some, lists others) reads as one list', () => {
    expect(referenceBase({ host: 'a', 'x-forwarded-host': ['media.example', 'inner'], encrypted: false }, undefined)).toEqual({ kind: 'fromRequest', base: 'http://media.example' });
  });
});

describe('parseForwarded (RFC 7239 section 4)', () => {
  test.each([
    ['for=192.0.2.43', {}],
    ['for="[2001:db8:cafe::17]:4711"', {}],
    ['for=192.0.2.60;proto=http;by=203.0.113.43', { proto: 'http' }],
    ['for=192.0.2.43, for=198.51.100.17', {}],
    ['host=media.example;proto=https', { host: 'media.example', proto: 'https' }],
    ['host="a\\"b"', { host: 'a"b' }],
  ] as const)('parseForwarded(%j)', (header, expected) => {
    expect(parseForwarded(header)).toEqual(expected);
  });
});

describe('proxyReference', () => {
  test.each([
    ['tok', 'seg1.ts', 'stream', 'https://media.example/anime', 'https://media.example/anime/strm/proxy/tok/seg1.ts'],
    ['tok', 'seg1.ts', 'proxy', 'http://nas:8080', 'http://nas:8080/strm/proxy/tok/seg1.ts'],
    ['tok', 'seg1.ts', 'stream', undefined, 'proxy/tok/seg1.ts'],
    ['tok', 'seg1.ts', 'proxy', undefined, '../../proxy/tok/seg1.ts'],
  ] as const)('proxyReference(%j, %j, %j, %j) = %j', (token, name, from, base, expected) => {
    expect(proxyReference(token, name, from, base)).toBe(expected);
  });
});

describe('referenceTooLong: FFmpeg reads URLs into 4096-byte buffers', () => {
  const absolute = (length: number) => `https://media.example/strm/proxy/${'A'.repeat(length - 'https://media.example/strm/proxy/'.length - 8)}/seg1.ts`;
  test(`an absolute reference of ${MAX_REFERENCE_BYTES} bytes fits, one more does not`, () => {
    expect(absolute(MAX_REFERENCE_BYTES)).toHaveLength(MAX_REFERENCE_BYTES);
    expect(referenceTooLong(absolute(MAX_REFERENCE_BYTES))).toBe(false);
    expect(referenceTooLong(absolute(MAX_REFERENCE_BYTES + 1))).toBe(true);
  });
  test('a relative reference keeps room for the origin and prefix it will be resolved under', () => {
    expect(referenceTooLong(`proxy/${'A'.repeat(MAX_REFERENCE_BYTES - 300)}/seg1.ts`)).toBe(false);
    expect(referenceTooLong(`proxy/${'A'.repeat(MAX_REFERENCE_BYTES - 200)}/seg1.ts`)).toBe(true);
  });
});
