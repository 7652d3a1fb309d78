import { MAX_STEERING_MANIFEST_BYTES } from '@strm/hls-rewrite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openLink } from '../src/playlist-links';
import { createProxyTokens } from '../src/tokens';
import { fetchAll, SECRET, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Content steering through the proxy (HLS Content Steering 1.2; RFC 8216bis 4.4.6.6
// EXT-X-CONTENT-STEERING): the steering manifest's URIs come back through the proxy, the client's
// _HLS_pathway and _HLS_throughput reach the steering server, and a HOST clone becomes proxy URIs.

const MASTER = [
  '#EXTM3U',
  '#EXT-X-CONTENT-STEERING:SERVER-URI="/steer/manifest.json?sig=a~b",PATHWAY-ID="A"',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",STABLE-RENDITION-ID="en",URI="audio/en.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,PATHWAY-ID="A",STABLE-VARIANT-ID="hd",AUDIO="aud"',
  'video/hd.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=400000,PATHWAY-ID="A",STABLE-VARIANT-ID="sd",AUDIO="aud"',
  'video/sd.m3u8',
  '',
].join('\n');
const MEDIA = (pathway: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-${pathway}.ts\n#EXT-X-ENDLIST\n`;

/** What the steering server answers next (the test sets it). */
let steering: () => { status: number; body: string | Buffer; type?: string };
let masterFails = false;
let originA: TestServer;
let originB: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
const tokens = createProxyTokens({ secret: SECRET, previousSecrets: [], ttlSeconds: 3600 });

/** Both pathways' origins serve the same presentation; B listens on 127.0.0.2, the port of A. */
function pathwayOrigin(pathway: string) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://cdn').pathname;
    const text = (status: number, body: string | Buffer, type: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/master.m3u8') return masterFails ? text(503, 'down', 'text/plain') : text(200, MASTER, 'application/vnd.apple.mpegurl');
    if (path.startsWith('/steer/')) {
      const answer = steering();
      return text(answer.status, answer.body, answer.type ?? 'application/json');
    }
    if (/^\/(video|audio)\/\w+\.m3u8$/.test(path)) return text(200, MEDIA(pathway), 'application/vnd.apple.mpegurl');
    if (path === `/video/seg-${pathway}.ts`) return text(200, `segment from ${pathway}`, 'video/mp2t');
    return text(404, '', 'text/plain');
  };
}

beforeAll(async () => {
  originA = await startServer(pathwayOrigin('A'));
  originB = await startServer(pathwayOrigin('B'), '127.0.0.2', originA.port);
  resolver = await startResolver([{ slug: 'steered', url: () => `${originA.origin}/master.m3u8` }]);
  proxy = await startTestProxy(resolver, { STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1,127.0.0.2' });
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await originB?.close();
  await originA?.close();
});

const manifest = (extra: Record<string, unknown> = {}) => JSON.stringify({ VERSION: 1, TTL: 300, 'PATHWAY-PRIORITY': ['B', 'A'], ...extra });
const proxyUri = () => new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/[A-Za-z0-9._-]+$`);
const tokenOf = (uri: string) => new URL(uri).pathname.split('/')[3]!;

/** The steering URI of the rewritten entry playlist. */
async function steeringUri(): Promise<string> {
  const master = (await fetchAll(proxy.entryUrl('steered'))).body.toString('utf8');
  const uri = /SERVER-URI="([^"]+)"/.exec(master)?.[1];
  expect(uri).toMatch(proxyUri());
  return uri!;
}

describe('a content steering manifest through the proxy', () => {
  test('RELOAD-URI and a HOST clone come back as proxy URIs; the client\'s _HLS_pathway and _HLS_throughput reach the steering server', async () => {
    steering = () => ({
      status: 200,
      body: manifest({ 'RELOAD-URI': 'next.json?sig=c', 'PATHWAY-CLONES': [{ 'BASE-ID': 'A', ID: 'B', 'URI-REPLACEMENT': { HOST: '127.0.0.2', PARAMS: { cdn: 'b' } } }] }),
    });
    const uri = await steeringUri();
    const before = originA.requests.length;
    const response = await fetchAll(`${uri}?_HLS_pathway=A&_HLS_throughput=1234567&other=dropped`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers.vary).toContain('X-Forwarded-Host');
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    // The steering server got the client's pathway and throughput after the sealed query, nothing else of the client's.
    const asked = originA.requests.slice(before).map((request) => request.path);
    expect(asked).toContain('/steer/manifest.json?sig=a~b&_HLS_pathway=A&_HLS_throughput=1234567');
    // The clones were expanded from the multivariant playlist, fetched again for that.
    expect(asked).toContain('/master.m3u8');

    const text = response.body.toString('utf8');
    expect(text).not.toContain('127.0.0.2');
    expect(text).not.toContain(originA.origin);
    const rewritten = JSON.parse(text) as { 'RELOAD-URI': string; 'PATHWAY-PRIORITY': string[]; 'PATHWAY-CLONES': Array<{ 'URI-REPLACEMENT': Record<string, Record<string, string>> }> };
    expect(rewritten['PATHWAY-PRIORITY']).toEqual(['B', 'A']);
    expect(rewritten['RELOAD-URI']).toMatch(proxyUri());
    const replacement = rewritten['PATHWAY-CLONES'][0]!['URI-REPLACEMENT'];
    expect(Object.keys(replacement).sort()).toEqual(['PER-RENDITION-URIS', 'PER-VARIANT-URIS']);
    expect(Object.keys(replacement['PER-VARIANT-URIS']!).sort()).toEqual(['hd', 'sd']);
    expect(replacement['PER-RENDITION-URIS']!.en).toMatch(proxyUri());

    // Each clone URI is a playlist link to pathway B's host, with the clone's parameters.
    const now = Math.floor(Date.now() / 1000);
    expect(openLink(tokens, tokenOf(replacement['PER-VARIANT-URIS']!.hd!), now)).toMatchObject({ url: `${originB.origin}/video/hd.m3u8?cdn=b`, kind: 'playlist' });
    const reload = openLink(tokens, tokenOf(rewritten['RELOAD-URI']), now);
    expect(reload).toMatchObject({ url: `${originA.origin}/steer/next.json?sig=c`, kind: 'steering', multivariant: `${originA.origin}/master.m3u8` });

    // Played through the proxy, pathway B's variant and its segments come from origin B.
    const hd = await fetchAll(replacement['PER-VARIANT-URIS']!.hd!);
    const segment = /^http.*$/m.exec(hd.body.toString('utf8'))![0];
    expect((await fetchAll(segment)).body.toString()).toBe('segment from B');
    expect(originB.requests.map((request) => request.path)).toEqual(['/video/hd.m3u8?cdn=b', '/video/seg-B.ts']);

    // The reload goes back to the steering server with the new pathway.
    const next = await fetchAll(`${rewritten['RELOAD-URI']}?_HLS_pathway=B&_HLS_throughput=99`);
    expect(next.status).toBe(200);
    expect(originA.requests.at(-2)?.path).toBe('/steer/next.json?sig=c&_HLS_pathway=B&_HLS_throughput=99');
  });

  test('listed PER-VARIANT-URIS are proxied; without the multivariant playlist HOST is dropped, never handed to the client', async () => {
    steering = () => ({
      status: 200,
      body: manifest({ 'PATHWAY-CLONES': [{ 'BASE-ID': 'A', ID: 'B', 'URI-REPLACEMENT': { HOST: 'cdn-b.example', 'PER-VARIANT-URIS': { hd: 'alt/hd.m3u8' } } }] }),
    });
    const uri = await steeringUri();
    masterFails = true;
    try {
      const response = await fetchAll(uri);
      expect(response.status).toBe(200);
      const replacement = (JSON.parse(response.body.toString('utf8')) as { 'PATHWAY-CLONES': Array<{ 'URI-REPLACEMENT': Record<string, Record<string, string>> }> })['PATHWAY-CLONES'][0]!['URI-REPLACEMENT'];
      expect(Object.keys(replacement)).toEqual(['PER-VARIANT-URIS']);
      expect(openLink(tokens, tokenOf(replacement['PER-VARIANT-URIS']!.hd!), Math.floor(Date.now() / 1000)).url).toBe(`${originA.origin}/steer/alt/hd.m3u8`);
    } finally {
      masterFails = false;
    }
  });

  test('HEAD answers the JSON type without a body', async () => {
    steering = () => ({ status: 200, body: manifest() });
    const response = await fetchAll(await steeringUri(), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body.length).toBe(0);
  });

  test.each([
    ['not JSON', () => ({ status: 200, body: '<html>maintenance</html>', type: 'text/html' }), /not JSON/],
    ['another VERSION', () => ({ status: 200, body: JSON.stringify({ VERSION: 2, TTL: 1, 'PATHWAY-PRIORITY': [] }) }), /VERSION must be 1/],
    ['over the size limit', () => ({ status: 200, body: manifest({ 'X-PAD': 'x'.repeat(MAX_STEERING_MANIFEST_BYTES) }) }), /larger than 256 KiB/],
  ])('a steering manifest %s is a 502 STRM_BAD_STEERING_MANIFEST', async (_name, answer, message) => {
    steering = answer;
    const response = await fetchAll(await steeringUri());
    expect(response.status).toBe(502);
    expect(response.json().error.code).toBe('STRM_BAD_STEERING_MANIFEST');
    expect(response.json().error.message).toMatch(message);
    expect(response.json().error.message).not.toContain('127.0.0.1');
  });

  test('a steering server that answers 410 (steering is over) passes its status through', async () => {
    steering = () => ({ status: 410, body: 'gone', type: 'text/plain' });
    const response = await fetchAll(await steeringUri());
    expect(response.status).toBe(410);
  });
});
