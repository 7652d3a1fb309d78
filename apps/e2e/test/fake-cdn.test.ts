import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigFileBytes, hashBigFile, startFakeCdn } from '../src/fake-cdn';
import type { CdnFaults, FakeCdn } from '../src/fake-cdn';
import { fixtureMediaDir, mediaFixtures } from '../src/fixtures';

const run = promisify(execFile);

let cdn: FakeCdn;
let clock = 1_700_000_000_000;
/**
 * A client connecting from 127.0.0.2: another address than the one the CDN saw before. (undici
 * 7.30 honours `localAddress` as an Agent option, not inside `connect`.)
 */
const otherAddress = new Agent({ localAddress: '127.0.0.2' });

beforeAll(async () => {
  cdn = await startFakeCdn({ now: () => clock });
});
afterAll(async () => {
  await otherAddress.close();
  await cdn.close();
});

interface Received {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function get(url: string, headers: Record<string, string> = {}, dispatcher?: Dispatcher, method: 'GET' | 'HEAD' = 'GET'): Promise<Received> {
  const res = await request(url, { method, headers, ...(dispatcher ? { dispatcher } : {}) });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

function media(path: string): Buffer {
  return readFileSync(join(fixtureMediaDir, path));
}

const MP4 = 'mp4-faststart/video.mp4';

describe('Range (RFC 9110 14) against the bytes of mp4-faststart/video.mp4', () => {
  const file = media(MP4);
  const size = file.length;
  const cases: { range: string; status: number; start?: number; end?: number }[] = [
    { range: 'bytes=0-99', status: 206, start: 0, end: 99 },
    { range: 'bytes=100-', status: 206, start: 100, end: size - 1 },
    { range: 'bytes=-500', status: 206, start: size - 500, end: size - 1 },
    { range: 'bytes=-99999999', status: 206, start: 0, end: size - 1 },
    { range: 'bytes=1000-99999999', status: 206, start: 1000, end: size - 1 },
    { range: `bytes=${size - 1}-${size - 1}`, status: 206, start: size - 1, end: size - 1 },
    { range: 'BYTES=7-7', status: 206, start: 7, end: 7 },
    { range: `bytes=${size}-`, status: 416 },
    { range: 'bytes=-0', status: 416 },
    { range: 'bytes=5-2', status: 200 },
    { range: 'bytes=0-1,5-6', status: 200 },
    { range: 'bytes=abc', status: 200 },
    { range: 'items=0-1', status: 200 },
  ];
  it.each(cases)('GET with Range: $range → $status', async ({ range, status, start, end }) => {
    const res = await get(cdn.url(MP4), { range });
    expect(res.status).toBe(status);
    if (status === 206) {
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers['content-length']).toBe(String(end! - start! + 1));
      expect(res.body.equals(file.subarray(start, end! + 1))).toBe(true);
    } else if (status === 416) {
      expect(res.headers['content-range']).toBe(`bytes */${size}`);
      expect(res.body.length).toBe(0);
    } else {
      expect(res.headers['content-range']).toBeUndefined();
      expect(res.body.equals(file)).toBe(true);
    }
  });

  it('GET without Range → 200, the whole file, Accept-Ranges, ETag and Last-Modified', async () => {
    const res = await get(cdn.url(MP4));
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-length']).toBe(String(size));
    expect(res.headers['etag']).toMatch(/^"[^"]+"$/);
    expect(Date.parse(String(res.headers['last-modified']))).not.toBeNaN();
    expect(res.body.equals(file)).toBe(true);
  });

  it('HEAD → the headers of GET, no body', async () => {
    const res = await get(cdn.url(MP4), {}, undefined, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(size));
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.body.length).toBe(0);
  });

  it('If-Range honours the Range only for the current strong ETag or the exact Last-Modified', async () => {
    const { headers } = await get(cdn.url(MP4), {}, undefined, 'HEAD');
    const etag = String(headers['etag']);
    const lastModified = String(headers['last-modified']);
    const table: [string, number][] = [
      [etag, 206],
      ['"not-the-etag"', 200],
      [`W/${etag}`, 200],
      [lastModified, 206],
      [new Date(Date.parse(lastModified) - 60_000).toUTCString(), 200],
      ['not a date', 200],
    ];
    for (const [ifRange, status] of table) {
      const res = await get(cdn.url(MP4), { range: 'bytes=10-19', 'if-range': ifRange });
      expect({ ifRange, status: res.status }).toEqual({ ifRange, status });
      expect(res.body.equals(status === 206 ? file.subarray(10, 20) : file)).toBe(true);
    }
  });

  it('If-None-Match with the ETag → 304 without a body', async () => {
    const { headers } = await get(cdn.url(MP4), {}, undefined, 'HEAD');
    const res = await get(cdn.url(MP4), { 'if-none-match': String(headers['etag']) });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
  });
});

describe('content types', () => {
  it.each([
    ['hls-ts/master.m3u8', 'application/vnd.apple.mpegurl'],
    ['hls-ts/video/180p/seg0.ts', 'video/mp2t'],
    ['mp4-moov-end/video.mp4', 'video/mp4'],
    ['hls-fmp4/stream/init.mp4', 'video/mp4'],
    ['hls-fmp4/stream/seg0.m4s', 'video/iso.segment'],
    ['hls-ts/subs/en/cue0.vtt', 'text/vtt'],
    ['hls-ts/keys/video.key', 'application/octet-stream'],
    ['big/1000.bin', 'application/octet-stream'],
  ])('GET %s → %s', async (path, type) => {
    const res = await get(cdn.issue(path));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
  });

  it('GET of a missing file → 404; a path escaping the media folder → 404', async () => {
    expect((await get(cdn.url('hls-ts/nope.ts'))).status).toBe(404);
    expect((await get(`${cdn.origin}/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
  });
});

describe('video pages /pages/<fixture>.html', () => {
  it.each(mediaFixtures.map((fixture) => [fixture.name, fixture.path, fixture.kind === 'hls' ? 'application/x-mpegURL' : 'video/mp4'] as const))(
    'GET pages/%s.html: text/html with a <video> whose relative source is %s',
    async (name, path, type) => {
      const res = await get(cdn.url(`pages/${name}.html`));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body.toString('utf8')).toContain(`<source src="../${path}" type="${type}">`);
    },
  );

  it('a page under a token hands the token to its media; an unknown page is 404', async () => {
    const page = cdn.issue('pages/mp4-faststart.html', { requireReferer: 'https://site.example/' });
    expect((await get(page)).status).toBe(403);
    const ok = await get(page, { referer: 'https://site.example/e1' });
    expect(ok.status).toBe(200);
    const media = new URL('../mp4-faststart/video.mp4', page).href;
    expect((await get(media, { referer: 'https://site.example/e1', range: 'bytes=0-9' })).status).toBe(206);
    expect((await get(cdn.url('pages/no-such-fixture.html'))).status).toBe(404);
  });
});

describe('faults', () => {
  it('expireAfterUses: 2 → two answers under the token (segments included), then 403 expired-uses', async () => {
    const url = cdn.issue('hls-ts/video/180p/index.m3u8', { expireAfterUses: 2 });
    const segment = new URL('seg0.ts', url).href;
    expect((await get(url)).status).toBe(200);
    expect((await get(segment)).status).toBe(200);
    expect((await get(segment)).status).toBe(403);
    expect(cdn.usesOf(url)).toBe(2);
    expect(cdn.requests.at(-1)).toMatchObject({ status: 403, fault: 'expired-uses' });
  });

  it('expireAfterMs: 60000 → 200 until the injected clock passes 60 s after issue, then 403 expired-time', async () => {
    const url = cdn.issue(MP4, { expireAfterMs: 60_000 });
    clock += 59_999;
    expect((await get(url, { range: 'bytes=0-0' })).status).toBe(206);
    clock += 1;
    expect((await get(url, { range: 'bytes=0-0' })).status).toBe(403);
    expect(cdn.requests.at(-1)?.fault).toBe('expired-time');
  });

  it('expireAfterMs with the real clock: a 150 ms URL is refused after 200 ms', async () => {
    const real = await startFakeCdn();
    try {
      const url = real.issue(MP4, { expireAfterMs: 150 });
      expect((await get(url, { range: 'bytes=0-0' })).status).toBe(206);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await get(url, { range: 'bytes=0-0' })).status).toBe(403);
    } finally {
      await real.close();
    }
  });

  it('bindToAddress 127.0.0.1 → 200 from 127.0.0.1, 403 wrong-address from 127.0.0.2 (the VPN problem)', async () => {
    const url = cdn.issue(MP4, { bindToAddress: '127.0.0.1' });
    expect((await get(url, { range: 'bytes=0-9' })).status).toBe(206);
    const refused = await get(url, { range: 'bytes=0-9' }, otherAddress);
    expect(refused.status).toBe(403);
    expect(cdn.requests.at(-1)).toMatchObject({ remoteAddress: '127.0.0.2', fault: 'wrong-address' });
    const boundToOther = cdn.issue(MP4, { bindToAddress: '127.0.0.2' });
    expect((await get(boundToOther, { range: 'bytes=0-9' }, otherAddress)).status).toBe(206);
    expect((await get(boundToOther, { range: 'bytes=0-9' })).status).toBe(403);
  });

  it('requireReferer → 403 missing-referer without it or with another one, 200 with it', async () => {
    const url = cdn.issue(MP4, { requireReferer: 'https://aniworld.to/' });
    expect((await get(url)).status).toBe(403);
    expect((await get(url, { referer: 'https://elsewhere.example/' })).status).toBe(403);
    expect(cdn.requests.at(-1)?.fault).toBe('missing-referer');
    expect((await get(url, { referer: 'https://aniworld.to/anime/stream/x' })).status).toBe(200);
  });

  it.each(['text/plain', 'application/octet-stream'])('playlistContentType %s → playlists with it, segments unchanged', async (type) => {
    const url = cdn.issue('hls-ts/video/180p/index.m3u8', { playlistContentType: type });
    expect((await get(url)).headers['content-type']).toBe(type);
    expect((await get(new URL('seg0.ts', url).href)).headers['content-type']).toBe('video/mp2t');
  });

  it("playlistPathSuffix '.txt' → the URL, every playlist URI inside and the child playlists end in .txt", async () => {
    const url = cdn.issue('hls-ts/master.m3u8', { playlistPathSuffix: '.txt' });
    expect(url).toMatch(/\/hls-ts\/master\.txt$/);
    const master = await get(url);
    expect(master.status).toBe(200);
    expect(master.headers['content-type']).toBe('text/plain; charset=utf-8');
    const text = master.body.toString('utf8');
    expect(text).not.toContain('.m3u8');
    expect(text).toContain('\nvideo/90p/index.txt\n');
    expect(text).toContain('URI="audio/en/index.txt"');
    expect(text).toContain('URI="iframes/index.txt"');
    const child = await get(new URL('video/90p/index.txt', url).href);
    expect(child.body.toString('utf8')).toBe(media('hls-ts/video/90p/index.m3u8').toString('utf8'));
  });

  it.each([
    ['jpg', 'image/jpeg', 'seg0.jpg'],
    ['png', 'image/png', 'seg0.png'],
    ['html', 'text/html; charset=utf-8', 'seg0.html'],
    ['none', 'application/octet-stream', 'seg0'],
  ] as const)('disguiseSegments %s → segment URIs renamed, served as %s with the real bytes', async (disguise, type, name) => {
    const url = cdn.issue('hls-ts/video/90p/index.m3u8', { disguiseSegments: disguise });
    const playlist = (await get(url)).body.toString('utf8');
    expect(playlist).toContain(`\nsegments/${name}\n`);
    expect(playlist).not.toMatch(/\.ts$/m);
    expect(playlist).toContain('URI="../../keys/video.key"');
    const segment = await get(new URL(`segments/${name}`, url).href);
    expect(segment.status).toBe(200);
    expect(segment.headers['content-type']).toBe(type);
    expect(segment.body.equals(media('hls-ts/video/90p/segments/seg0.ts'))).toBe(true);
  });

  it("redirectToHost 'localhost' → 302 to the same path on localhost, which then serves it", async () => {
    const url = cdn.issue(MP4, { redirectToHost: 'localhost' });
    const first = await get(url);
    expect(first.status).toBe(302);
    const location = String(first.headers['location']);
    expect(location).toBe(url.replace('127.0.0.1', 'localhost'));
    const second = await get(location);
    expect(second.status).toBe(200);
    expect(second.body.equals(media(MP4))).toBe(true);
    expect(cdn.requests.at(-1)?.host).toBe(`localhost:${cdn.port}`);
  });

  it('ignoreRange → 200 with the whole body and no Accept-Ranges', async () => {
    const url = cdn.issue(MP4, { ignoreRange: true });
    const res = await get(url, { range: 'bytes=100-199' });
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBeUndefined();
    expect(res.body.equals(media(MP4))).toBe(true);
    expect(cdn.requests.at(-1)?.fault).toBe('range-ignored');
  });

  it('dropAfterBytes 10000, dropTimes 2 → two bodies cut after exactly 10000 bytes, the third complete', async () => {
    const url = cdn.issue(MP4, { dropAfterBytes: 10_000, dropTimes: 2 });
    const file = media(MP4);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const res = await request(url);
      const chunks: Buffer[] = [];
      const failure = await (async () => {
        for await (const chunk of res.body) chunks.push(chunk as Buffer);
      })().then(() => undefined, (error: unknown) => error);
      expect(failure, `attempt ${attempt} must fail`).toBeInstanceOf(Error);
      const received = Buffer.concat(chunks);
      expect(received.length).toBe(10_000);
      expect(received.equals(file.subarray(0, 10_000))).toBe(true);
      expect(cdn.requests.at(-1)).toMatchObject({ fault: 'dropped', bytesSent: 10_000, completed: false });
    }
    const third = await get(url);
    expect(third.body.equals(file)).toBe(true);
  });

  it('bytesPerSecond 40000 → 20000 bytes take at least 450 ms', async () => {
    const url = cdn.issue(MP4, { bytesPerSecond: 40_000 });
    const started = performance.now();
    const res = await get(url, { range: 'bytes=0-19999' });
    const elapsed = performance.now() - started;
    expect(res.body.equals(media(MP4).subarray(0, 20_000))).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(450);
  });

  it('delayHeadersMs 300 → the status line comes after at least 300 ms', async () => {
    const url = cdn.issue(MP4, { delayHeadersMs: 300 });
    const started = performance.now();
    const res = await request(url, { method: 'HEAD' });
    await res.body.dump();
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
  });

  it.each([405, 501] as const)('headStatus %i → HEAD refused with Allow: GET, GET served', async (status) => {
    const url = cdn.issue(MP4, { headStatus: status });
    const head = await get(url, {}, undefined, 'HEAD');
    expect(head.status).toBe(status);
    expect(head.headers['allow']).toBe('GET');
    expect((await get(url)).status).toBe(200);
  });

  it('failFirst { count: 2, status: 503 } → 503, 503, then 200 (failures are not uses)', async () => {
    const url = cdn.issue(MP4, { failFirst: { count: 2, status: 503 }, expireAfterUses: 1 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(url, { range: 'bytes=0-0' })).status);
    expect(statuses).toEqual([503, 503, 206, 403]);
  });

  it('bom → playlists start with EF BB BF, Content-Length counts it, segments untouched', async () => {
    const url = cdn.issue('hls-byterange/index.m3u8', { bom: true });
    const res = await get(url);
    const original = media('hls-byterange/index.m3u8');
    expect(res.body.subarray(0, 3).toString('hex')).toBe('efbbbf');
    expect(res.body.subarray(3).equals(original)).toBe(true);
    expect(res.headers['content-length']).toBe(String(original.length + 3));
    const tail = await get(new URL('media.ts', url).href, { range: 'bytes=0-3' });
    expect(tail.body[0]).toBe(0x47);
  });

  it('an unknown token → 403 unknown-token', async () => {
    const res = await get(`${cdn.origin}/t/notissued/${MP4}`);
    expect(res.status).toBe(403);
    expect(cdn.requests.at(-1)?.fault).toBe('unknown-token');
  });

  it.each<[string, CdnFaults]>([
    ['expireAfterUses: -1', { expireAfterUses: -1 }],
    ['bytesPerSecond: 0', { bytesPerSecond: 0 }],
    ["disguiseSegments: 'gif'", { disguiseSegments: 'gif' as 'jpg' }],
    ['failFirst status 200', { failFirst: { count: 1, status: 200 } }],
  ])('issue(path, { %s }) throws TypeError', (_, faults) => {
    expect(() => cdn.issue(MP4, faults)).toThrow(TypeError);
  });

  it("issue('../secret') throws TypeError", () => {
    expect(() => cdn.issue('../secret')).toThrow(TypeError);
  });
});

describe('big synthetic files /big/<bytes>.bin', () => {
  it('bigFileBytes(start, end) is any window of one fixed pattern, and shifted windows differ', () => {
    const whole = bigFileBytes(0, 4096);
    expect(bigFileBytes(5, 1003).equals(whole.subarray(5, 1003))).toBe(true);
    expect(bigFileBytes(1, 9).equals(bigFileBytes(0, 8))).toBe(false);
    expect(bigFileBytes(4, 12).equals(bigFileBytes(0, 8))).toBe(false);
    expect(bigFileBytes(0, 8).toString('hex')).toBe('0000000086e7379e');
  });

  it('hashBigFile(start, end) equals the SHA-256 of bigFileBytes(start, end)', () => {
    const expected = createHash('sha256').update(bigFileBytes(3, 3_000_001)).digest('hex');
    expect(hashBigFile(3, 3_000_001)).toBe(expected);
  });

  it('GET big/1000003.bin → 1000003 bytes of the pattern', async () => {
    const res = await get(cdn.url('big/1000003.bin'));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(1_000_003);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(hashBigFile(0, 1_000_003));
  });

  it('GET big/3221225472.bin with Range bytes=3221225000- (beyond 2^31) → the pattern at that offset', async () => {
    const size = 3 * 1024 ** 3;
    const res = await get(cdn.url(`big/${size}.bin`), { range: 'bytes=3221225000-' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 3221225000-${size - 1}/${size}`);
    expect(res.body.equals(bigFileBytes(3_221_225_000, size))).toBe(true);
  });

  it('HEAD big/3221225472.bin → Content-Length 3221225472, no body generated', async () => {
    const res = await get(cdn.url(`big/${3 * 1024 ** 3}.bin`), {}, undefined, 'HEAD');
    expect(res.headers['content-length']).toBe(String(3 * 1024 ** 3));
    expect(cdn.requests.at(-1)?.bytesSent).toBe(0);
  });

  it('a client aborting a 1 GiB download leaves no socket open on the CDN', async () => {
    const agent = new Agent();
    const before = cdn.openSockets();
    const controller = new AbortController();
    const res = await request(cdn.url(`big/${1024 ** 3}.bin`), { dispatcher: agent, signal: controller.signal });
    let received = 0;
    const reading = (async () => {
      for await (const chunk of res.body) {
        received += (chunk as Buffer).length;
        if (received > 1_000_000) controller.abort();
      }
    })().catch(() => undefined);
    await reading;
    expect(cdn.openSockets()).toBeGreaterThanOrEqual(before);
    await agent.destroy();
    await cdn.openSocketsAtMost(before, 5_000);
    expect(cdn.openSockets()).toBe(before);
    const log = cdn.requests.at(-1)!;
    expect(log.completed).toBe(false);
    expect(log.bytesSent).toBeLessThan(1024 ** 3);
  });
});

describe('ffmpeg and ffprobe as clients of the fake CDN', () => {
  it.each(mediaFixtures.map((f) => [f.name, f] as const))('ffprobe %s → its streams and ~4 s', async (_, fixture) => {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type:format=duration', '-of', 'json', cdn.url(fixture.path)]);
    const probe = JSON.parse(stdout) as { streams: { codec_type: string }[]; format: { duration: string } };
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual([...fixture.streams].sort());
    expect(Number(probe.format.duration)).toBeCloseTo(fixture.seconds, 0);
  });

  it.each(mediaFixtures.map((f) => [f.name, f] as const))('ffmpeg -f framemd5 %s decodes every stream', async (_, fixture) => {
    const issued = cdn.issue(fixture.path);
    const token = /\/t\/([^/]+)\//.exec(issued)?.[1];
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', issued, '-map', '0', '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024 });
    const frames = stdout.split('\n').filter((line) => /^\d+,/.test(line));
    const videoStreams = fixture.streams.filter((s) => s === 'video').length;
    // ffmpeg 5.1's DASH demuxer starts a static timeline or single file at its second segment and
    // reads the last of two Periods only (fixtures/README.md): fewer frames than the 4 s hold.
    const minimumFrames = fixture.kind === 'dash' ? 40 : 100;
    expect(frames.length).toBeGreaterThanOrEqual(videoStreams * minimumFrames);
    const served = cdn.requests.filter((r) => r.token === token);
    // It also asks a static DASH template for one segment past its end: a 404, nothing else.
    const allowed = (status: number) => status === 200 || status === 206 || (fixture.kind === 'dash' && status === 404);
    expect(served.filter((r) => !allowed(r.status)).map((r) => `${r.status} ${r.resource}`)).toEqual([]);
    if (fixture.name === 'hls-ts') {
      const resources = served.map((r) => r.resource);
      expect(resources).toContain('hls-ts/keys/video.key');
      expect(resources).toContain('hls-ts/keys/audio.key');
      expect(resources).toContain('hls-ts/video/90p/segments/seg3.ts');
    }
    if (fixture.name === 'hls-byterange') {
      expect(served.filter((r) => r.resource.endsWith('media.ts')).map((r) => r.range)).toContain('bytes=13536-26131');
    }
    if (fixture.name === 'hls-fmp4') expect(served.map((r) => r.resource)).toContain('hls-fmp4/stream/init.mp4');
  });

  it('ffmpeg decodes the I-frame playlist of hls-ts: 4 intra frames', async () => {
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', cdn.url('hls-ts/iframes/index.m3u8'), '-f', 'framemd5', '-']);
    expect(stdout.split('\n').filter((line) => /^\d+,/.test(line))).toHaveLength(4);
  });

  it('ffmpeg reads the WebVTT subtitle playlist of hls-ts: 4 cues', async () => {
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', cdn.url('hls-ts/subs/en/index.m3u8'), '-f', 'webvtt', '-']);
    expect(stdout.match(/second \d of 4/g)).toEqual(['second 1 of 4', 'second 2 of 4', 'second 3 of 4', 'second 4 of 4']);
  });

  // What the proxy suites rely on: these CDN faults break ffmpeg when it plays directly.
  it.each([
    ['disguiseSegments jpg', { disguiseSegments: 'jpg' }, /is not in allowed_segment_extensions/],
    ['disguiseSegments none', { disguiseSegments: 'none' }, /is not in allowed_segment_extensions/],
    ['bom', { bom: true }, /could not find codec parameters|Invalid data found/],
  ] as const)('ffmpeg directly on hls-byterange with %s fails (%s)', async (_, faults, message) => {
    const url = cdn.issue('hls-byterange/index.m3u8', faults);
    const failure = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', url, '-f', 'framemd5', '-']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(message);
  });
});
