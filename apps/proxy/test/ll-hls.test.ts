// Low-latency HLS through the proxy (RFC 8216bis §6.2.5 Delivery Directives, §4.4.5 tags): a
// real origin on port 0 that blocks, sends delta updates and grows a segment while it is read.
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchAll, mediaBytes, serveBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

/** The origin holds a blocking reload this long: more than the proxy's 2 s upstream timeout, less than 2 s + 3 target durations. */
const HOLD_MS = 2500;
const SEGMENT = mediaBytes(4000);
/** The segment being written: its first part is there, the rest comes when `finishGrowing` is called. */
const GROWING_HEAD = mediaBytes(3000).subarray(0, 1000);
const GROWING_TAIL = mediaBytes(3000).subarray(1000);

let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;
/** The last complete segment of the live playlist; a blocking reload for the next one advances it. */
let lastMsn = 10;
let finishGrowing: () => void = () => undefined;

/** The LL-HLS media playlist up to `last`, or its delta update (EXT-X-SKIP) when `skip`. */
function mediaPlaylist(last: number, skip: boolean): string {
  const first = last - 5;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    '#EXT-X-TARGETDURATION:1',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.0,PART-HOLD-BACK=1.5',
    '#EXT-X-PART-INF:PART-TARGET=0.5',
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    '#EXT-X-MAP:URI="init.mp4"',
  ];
  const kept = skip ? 3 : 6;
  if (skip) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${6 - kept}`);
  for (let msn = last - kept + 1; msn <= last; msn += 1) {
    if (msn === last) lines.push(`#EXT-X-PART:DURATION=0.5,URI="seg${msn}.m4s",BYTERANGE="2000@0",INDEPENDENT=YES`, `#EXT-X-PART:DURATION=0.5,URI="seg${msn}.m4s",BYTERANGE="2000@2000"`);
    lines.push('#EXTINF:1.0,', `seg${msn}.m4s`);
  }
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg${last + 1}.m4s",BYTERANGE-START=0`);
  lines.push(`#EXT-X-RENDITION-REPORT:URI="../audio/media.m3u8",LAST-MSN=${last},LAST-PART=1`);
  return `${lines.join('\n')}\n`;
}

/** The segment being written: an open range answers with an indeterminate length (RFC 8673) and grows. */
function serveGrowing(res: ServerResponse, range: string | undefined): void {
  const start = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? Number.NaN);
  if (!(start < GROWING_HEAD.length)) {
    res.writeHead(416).end();
    return;
  }
  res.writeHead(206, { 'content-type': 'video/iso.segment', 'content-range': `bytes ${start}-9007199254740991/*` });
  res.write(GROWING_HEAD.subarray(start));
  finishGrowing = () => res.end(GROWING_TAIL);
}

beforeAll(async () => {
  origin = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    const text = (body: string): void => void res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': Buffer.byteLength(body) }).end(body);
    if (url.pathname === '/live/master.m3u8') return text('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="a"\nvideo/media.m3u8\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,URI="audio/media.m3u8"\n');
    if (url.pathname === '/live/video/media.m3u8' || url.pathname === '/live/audio/media.m3u8') {
      const msn = url.searchParams.get('_HLS_msn');
      if (msn !== null && Number(msn) > lastMsn) {
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
        lastMsn = Number(msn);
      }
      return text(mediaPlaylist(lastMsn, url.searchParams.get('_HLS_skip') === 'YES'));
    }
    if (url.pathname === `/live/video/seg${lastMsn + 1}.m4s`) return serveGrowing(res, req.headers.range);
    if (/^\/live\/video\/(seg\d+\.m4s|init\.mp4)$/.test(url.pathname)) return serveBytes(req, res, SEGMENT, { contentType: 'video/iso.segment' });
    res.writeHead(404).end();
  });
  resolver = await startResolver([
    { slug: 'll', url: () => `${origin.origin}/live/master.m3u8` },
    { slug: 'll-media', url: () => `${origin.origin}/live/video/media.m3u8?tok=abc` },
  ]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

/** URI lines and URI attributes of a playlist, with the tag each came from. */
function references(playlist: string): Array<{ tag: string; uri: string }> {
  const found: Array<{ tag: string; uri: string }> = [];
  for (const line of playlist.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith('#')) found.push({ tag: 'URI-LINE', uri: line });
    for (const match of line.matchAll(/URI="([^"]*)"/g)) found.push({ tag: /^#([A-Z-]+)/.exec(line)![1]!, uri: match[1]! });
  }
  return found;
}

/** The proxy URI of the video media playlist, as a player holds it after the multivariant playlist. */
async function mediaPlaylistUrl(): Promise<string> {
  const master = await fetchAll(proxy.entryUrl('ll'));
  return references(master.body.toString('utf8'))[0]!.uri;
}

const originQueries = (path: string) => origin.requests.filter((logged) => logged.path.startsWith(path)).map((logged) => new URL(logged.path, 'http://cdn').search);

describe('LL-HLS Delivery Directives (RFC 8216bis §6.2.5)', () => {
  test('_HLS_msn, _HLS_part and _HLS_skip reach the origin on a playlist link; other parameters do not', async () => {
    const media = await mediaPlaylistUrl();
    const before = origin.requests.length;
    const delta = await fetchAll(`${media}?_HLS_msn=${lastMsn}&_HLS_part=1&_HLS_skip=YES&CMCD=bl%3D100&_HLS_future=1`);
    expect(delta.status).toBe(200);
    expect(origin.requests.slice(before).map((logged) => logged.path)).toEqual([`/live/video/media.m3u8?_HLS_msn=${lastMsn}&_HLS_part=1&_HLS_skip=YES`]);
    // The delta update keeps EXT-X-SKIP as it is and routes the URIs it still has.
    const text = delta.body.toString('utf8');
    expect(text).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n');
    const refs = references(text);
    expect(refs.map((ref) => ref.tag)).toEqual(['EXT-X-MAP', 'URI-LINE', 'URI-LINE', 'EXT-X-PART', 'EXT-X-PART', 'URI-LINE', 'EXT-X-PRELOAD-HINT', 'EXT-X-RENDITION-REPORT']);
    for (const ref of refs) expect(ref.uri).toMatch(new RegExp(`^${proxy.url}/strm/proxy/[A-Za-z0-9_-]+/[a-z0-9]+\\.(m4s|mp4|m3u8)$`));
    expect(text).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[^"]+",BYTERANGE-START=0\n/);
    expect(text).toMatch(/#EXT-X-PART:DURATION=0\.5,URI="[^"]+",BYTERANGE="2000@2000"\n/);
  });

  test('a rendition report names its rendition by the URI the multivariant playlist gave it, on every reload', async () => {
    const master = references((await fetchAll(proxy.entryUrl('ll'))).body.toString('utf8'));
    const audio = master.find((ref) => ref.tag === 'EXT-X-MEDIA')!.uri;
    const video = master.find((ref) => ref.tag === 'URI-LINE')!.uri;
    for (const playlist of [video, audio]) {
      const report = references((await fetchAll(playlist)).body.toString('utf8')).find((ref) => ref.tag === 'EXT-X-RENDITION-REPORT');
      expect(report?.uri).toBe(audio);
    }
    expect(references((await fetchAll(`${video}?_HLS_skip=YES`)).body.toString('utf8')).at(-1)).toEqual({ tag: 'EXT-X-RENDITION-REPORT', uri: audio });
  });

  test('a blocking reload waits for the origin beyond the upstream timeout: three target durations more', async () => {
    const media = await mediaPlaylistUrl();
    expect((await fetchAll(media)).status, 'a first load without directives teaches the target duration').toBe(200);
    const next = lastMsn + 1;
    const startedAt = performance.now();
    const blocked = await fetchAll(`${media}?_HLS_msn=${next}&_HLS_part=0`);
    const waited = performance.now() - startedAt;
    expect(blocked.status).toBe(200);
    expect(waited, 'the origin held the request').toBeGreaterThanOrEqual(HOLD_MS - 100);
    // The answer is the origin's blocked one (it holds the new segment), not a retry without directives.
    expect(blocked.body.toString('utf8')).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI=`);
    expect(references(blocked.body.toString('utf8')).filter((ref) => ref.tag === 'URI-LINE')).toHaveLength(6);
    expect(lastMsn).toBe(next);
    expect(originQueries('/live/video/media.m3u8').filter((query) => query.includes('_HLS_msn'))).toContain(`?_HLS_msn=${next}&_HLS_part=0`);
  });

  test('the directives on an entry URL reach the origin and do not break its signature', async () => {
    const before = origin.requests.length;
    const response = await fetchAll(`${proxy.entryUrl('ll-media')}&_HLS_msn=${lastMsn}&_HLS_skip=v2`);
    expect(response.status).toBe(200);
    expect(origin.requests.slice(before).map((logged) => logged.path)).toEqual([`/live/video/media.m3u8?tok=abc&_HLS_msn=${lastMsn}&_HLS_skip=v2`]);
  });

  test('a malformed directive on an entry URL is a 400 before the resolver is asked', async () => {
    const calls = resolver.calls.get('ll-media')?.total ?? 0;
    const response = await fetchAll(`${proxy.entryUrl('ll-media')}&_HLS_msn=x`);
    expect(response.status).toBe(400);
    expect(response.json().error.code).toBe('STRM_BAD_DELIVERY_DIRECTIVE');
    expect(resolver.calls.get('ll-media')?.total ?? 0).toBe(calls);
  });

  test.each([
    ['?_HLS_part=1', /_HLS_part needs _HLS_msn/],
    ['?_HLS_msn=abc', /_HLS_msn must be a decimal integer/],
    ['?_HLS_msn=-1', /_HLS_msn must be a decimal integer/],
    ['?_HLS_msn=1&_HLS_msn=2', /_HLS_msn is given more than once/],
    ['?_HLS_skip=NO', /_HLS_skip must be YES or v2/],
  ])('a malformed directive %s is a 400 STRM_BAD_DELIVERY_DIRECTIVE, the origin not asked', async (query, message) => {
    const media = await mediaPlaylistUrl();
    const before = origin.requests.length;
    const response = await fetchAll(`${media}${query}`);
    expect(response.status).toBe(400);
    expect(response.json().error.code).toBe('STRM_BAD_DELIVERY_DIRECTIVE');
    expect(response.json().error.message).toMatch(message);
    expect(origin.requests.length).toBe(before);
  });
});

describe('LL-HLS parts and preload hints through the proxy (RFC 8216bis §4.4.4.9, §4.4.5.3)', () => {
  async function partLinks() {
    const media = await mediaPlaylistUrl();
    const refs = references((await fetchAll(media)).body.toString('utf8'));
    return { parts: refs.filter((ref) => ref.tag === 'EXT-X-PART').map((ref) => ref.uri), hint: refs.find((ref) => ref.tag === 'EXT-X-PRELOAD-HINT')!.uri };
  }

  test('an EXT-X-PART byte range is answered with exactly its bytes', async () => {
    const { parts } = await partLinks();
    const part = await fetchAll(parts[1]!, { headers: { range: 'bytes=2000-3999' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 2000-3999/4000');
    expect(part.body.equals(SEGMENT.subarray(2000, 4000))).toBe(true);
  });

  test('a preload hint asked with an open range streams the part while the origin writes it, to its real end', async () => {
    const { hint } = await partLinks();
    const response = await request(hint, { headers: { range: 'bytes=0-' } });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe('bytes 0-9007199254740991/*');
    expect(response.headers['content-length']).toBeUndefined();
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer);
      received += (chunk as Buffer).length;
      // The bytes written so far arrive before the origin finishes the part: nothing waits for its end.
      if (received === GROWING_HEAD.length) finishGrowing();
    }
    expect(Buffer.concat(chunks).equals(Buffer.concat([GROWING_HEAD, GROWING_TAIL]))).toBe(true);
  });
});
