import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clientErrorAnswer, MAX_REQUEST_TARGET_BYTES } from '../src/client-errors';
import { rawExchange, startResolver, startTestProxy, type RawAnswer, type TestProxy, type TestResolver } from './support/servers';

// Every answer is the proxy's: requests Node's parser refuses, CONNECT and absolute-form targets
// get the JSON error body with the right status, sent as bytes over a real socket, and the
// connection closes (docs/contract.md, "Endpoints").
let resolver: TestResolver;
let proxy: TestProxy;
let slow: TestProxy;

beforeAll(async () => {
  resolver = await startResolver([]);
  proxy = await startTestProxy(resolver);
  // Headers must arrive within 300 ms, checked every 50 ms (30 s and 30 s by default).
  slow = await startTestProxy(resolver, {}, { headersTimeout: { ms: 300, checkEveryMs: 50 } });
});

afterAll(async () => {
  await proxy?.close(0);
  await slow?.close(0);
  await resolver?.close();
});

/** The JSON error code of an answer; fails the test when the body is not the proxy's JSON error. */
function errorCode(answer: RawAnswer): string {
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  const parsed = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(parsed.error.message.length).toBeGreaterThan(0);
  return parsed.error.code;
}

const CRLF = '\r\n';
const host = 'Host: 127.0.0.1' + CRLF;

describe('requests the HTTP parser refuses', () => {
  test.each<[string, number, string, string]>([
    ['garbage', 400, 'STRM_BAD_REQUEST', `garbage${CRLF}${CRLF}`],
    ['a lowercase method', 400, 'STRM_BAD_REQUEST', `get /healthz HTTP/1.1${CRLF}${host}${CRLF}`],
    ['HTTP/1.2', 400, 'STRM_BAD_REQUEST', `GET /healthz HTTP/1.2${CRLF}${host}${CRLF}`],
    ['a control byte in a header value', 400, 'STRM_BAD_REQUEST', `GET /healthz HTTP/1.1${CRLF}${host}X-Test: a\u0001b${CRLF}${CRLF}`],
    ['a space before a header colon', 400, 'STRM_BAD_REQUEST', `GET /healthz HTTP/1.1${CRLF}${host}X-Test : a${CRLF}${CRLF}`],
    ['a URL of 20 KiB', 414, 'STRM_URL_TOO_LONG', `GET /${'a'.repeat(20 * 1024)} HTTP/1.1${CRLF}${host}${CRLF}`],
    ['headers of 20 KiB', 431, 'STRM_HEADERS_TOO_LARGE', `GET /healthz HTTP/1.1${CRLF}${host}X-Big: ${'b'.repeat(20 * 1024)}${CRLF}${CRLF}`],
    ['HTTP/1.1 without Host (found by tools/fuzz)', 400, 'STRM_BAD_REQUEST', `GET /nowhere HTTP/1.1${CRLF}Connection: close${CRLF}${CRLF}`],
  ])('%s → %i %s, then the connection closes', async (_name, status, code, bytes) => {
    const answer = await rawExchange(proxy.url, Buffer.from(bytes, 'latin1'));
    expect(answer.status).toBe(status);
    expect(answer.headers.connection).toBe('close');
    expect(errorCode(answer)).toBe(code);
  });

  test('an expectation other than 100-continue is ignored, not refused with an empty 417 (found by tools/fuzz)', async () => {
    const answer = await rawExchange(proxy.url, `GET /healthz HTTP/1.1${CRLF}${host}Expect: nothing${CRLF}Connection: close${CRLF}${CRLF}`);
    expect(answer.status).toBe(200);
  });

  test('headers that do not arrive in time → 408 STRM_REQUEST_TIMEOUT', async () => {
    // The request is never finished: only the proxy's headers timeout ends the exchange.
    const answer = await rawExchange(slow.url, `GET /healthz HTTP/1.1${CRLF}${host}`, 10_000);
    expect(answer.status).toBe(408);
    expect(errorCode(answer)).toBe('STRM_REQUEST_TIMEOUT');
  });

  test('a refused request is logged with its code, without its bytes', async () => {
    await rawExchange(proxy.url, `GET /healthz HTTP/1.1${CRLF}${host}X-Api-Key: k\u0001ey-secret${CRLF}${CRLF}`);
    const line = await proxy.waitForLog((entry) => entry.cause === 'HPE_INVALID_HEADER_TOKEN');
    expect(line).toMatchObject({ route: 'other', status: 400, code: 'STRM_BAD_REQUEST' });
    expect(JSON.stringify(proxy.logs)).not.toContain('ey-secret');
  });

  test('a malformed request after an answered one on the same connection gets its JSON 400 too', async () => {
    const answer = await rawExchange(proxy.url, [`GET /healthz HTTP/1.1${CRLF}${host}${CRLF}`, `get / HTTP/1.1${CRLF}${host}${CRLF}`]);
    expect(answer.status).toBe(200);
    const second = answer.raw.slice(answer.raw.indexOf('HTTP/1.1', 10));
    expect(second).toMatch(/^HTTP\/1\.1 400 /);
    expect(second).toContain('"code":"STRM_BAD_REQUEST"');
  });
});

describe('request targets and methods the proxy does not serve', () => {
  test('CONNECT → 405 STRM_METHOD_NOT_ALLOWED with Allow, then the connection closes', async () => {
    const answer = await rawExchange(proxy.url, `CONNECT cdn.example:443 HTTP/1.1${CRLF}Host: cdn.example:443${CRLF}${CRLF}`);
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(errorCode(answer)).toBe('STRM_METHOD_NOT_ALLOWED');
  });

  test.each([
    'http://127.0.0.1/healthz',
    'http://proxy.example/strm/stream?slug=x',
    'https://proxy.example/strm/proxy/abc/seg.ts',
  ])('the absolute-form target %s → 400 STRM_BAD_REQUEST', async (target) => {
    const answer = await rawExchange(proxy.url, `GET ${target} HTTP/1.1${CRLF}${host}Connection: close${CRLF}${CRLF}`);
    expect(answer.status).toBe(400);
    expect(errorCode(answer)).toBe('STRM_BAD_REQUEST');
  });

  test(`a URL over ${MAX_REQUEST_TARGET_BYTES} bytes that the parser reads → 414 STRM_URL_TOO_LONG`, async () => {
    const answer = await rawExchange(proxy.url, `GET /strm/stream?slug=${'x'.repeat(MAX_REQUEST_TARGET_BYTES)} HTTP/1.1${CRLF}${host}Connection: close${CRLF}${CRLF}`);
    expect(answer.status).toBe(414);
    expect(errorCode(answer)).toBe('STRM_URL_TOO_LONG');
  });

  test('a URL just under the limit still reaches its endpoint', async () => {
    const target = `/healthz?pad=${'x'.repeat(MAX_REQUEST_TARGET_BYTES - 20)}`;
    const answer = await rawExchange(proxy.url, `GET ${target} HTTP/1.1${CRLF}${host}Connection: close${CRLF}${CRLF}`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ status: 'ok' });
  });
});

describe('clientErrorAnswer', () => {
  const parserError = (code: string, rawPacket?: string) => Object.assign(new Error('Parse Error'), { code, ...(rawPacket !== undefined ? { rawPacket: Buffer.from(rawPacket) } : {}) });
  test.each<[string, number, string | undefined]>([
    ['HPE_INVALID_METHOD', 400, undefined],
    ['HPE_INVALID_CHUNK_SIZE', 400, undefined],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, undefined],
    ['HPE_HEADER_OVERFLOW', 414, `GET /${'a'.repeat(9000)}`],
    ['HPE_HEADER_OVERFLOW', 414, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n`],
    ['HPE_HEADER_OVERFLOW', 431, `GET /${'a'.repeat(100)} HTTP/1.1\r\nX-Big: ${'b'.repeat(9000)}`],
    // The tail of a header that arrived over several reads: nothing says it was the URL.
    ['HPE_HEADER_OVERFLOW', 431, 'b'.repeat(9000)],
    ['HPE_HEADER_OVERFLOW', 431, undefined],
  ])('clientErrorAnswer(%s) → %i (packet %#)', (code, status, packet) => {
    expect(clientErrorAnswer(parserError(code, packet)).status).toBe(status);
  });
});
