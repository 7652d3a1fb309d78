// The minimal byte paths of `pnpm bench --byte-paths` (byte-paths.ts) pass the bytes they are
// measured on exactly: the whole file, and a range of it, against the fake CDN as the origin. A
// row of the bench is only worth its figures if these hold (the bench itself checks the length).
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeCdn, type FakeCdn } from '@strm/e2e';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA } from './origin';
import { startNodeServer, type ServerProcess } from './processes';
import { prepareMedia } from './stack';

let workDir: string;
let movie: Buffer;
let cdn: FakeCdn;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'strm-bench-byte-paths-'));
  const mediaDir = join(workDir, 'media');
  await prepareMedia(mediaDir, { movieBytes: 3 * 1024 * 1024, segmentBytes: 64 * 1024 });
  movie = await readFile(join(mediaDir, MEDIA.movie));
  cdn = await startFakeCdn({ mediaDir });
});

afterAll(async () => {
  await Promise.all([...servers.map((server) => server.stop()), cdn?.close()]);
  await rm(workDir, { recursive: true, force: true });
});

describe.each(['reused', 'dispatch'])('byte path %s', (mode) => {
  let url: string;
  beforeAll(async () => {
    const issued = new URL(cdn.issue(MEDIA.movie));
    const server = await startNodeServer(`byte path ${mode}`, 'tools/bench/byte-paths.ts', { args: [issued.origin, mode] });
    servers.push(server);
    url = `${server.url}${issued.pathname}`;
  });

  it('passes the whole file, with its type and length', async () => {
    const response = await request(url);
    const body = Buffer.from(await response.body.arrayBuffer());
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('video/mp4');
    expect(response.headers['content-length']).toBe(String(movie.length));
    expect(body.equals(movie)).toBe(true);
  });

  it('passes a range as the origin answers it', async () => {
    const response = await request(url, { headers: { range: 'bytes=1000000-1999999' } });
    const body = Buffer.from(await response.body.arrayBuffer());
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes 1000000-1999999/${movie.length}`);
    expect(body.equals(movie.subarray(1_000_000, 2_000_000))).toBe(true);
  });
});
