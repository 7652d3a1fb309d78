// The bench's origins against what the proxy relies on: nginx serving the media folder
// (nginx-origin.conf) and the fake CDN it replaces answer alike, the resolver process hands out
// URLs on nginx when told to, and the check names an origin that does not (the fake CDN with its
// `ignoreRange` fault, a file of another type).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeCdn, type FakeCdn } from '@strm/e2e';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNginx, startNginxOrigin } from './nginx';
import { EPISODE, MEDIA } from './origin';
import { checkOrigin, type OriginFile } from './origin-check';
import { startNodeServer, type ServerProcess } from './processes';
import { prepareMedia } from './stack';

const KiB = 1024;
const TYPES = { segment: 'video/mp2t', movie: 'video/mp4', playlist: 'application/vnd.apple.mpegurl' } as const;

let workDir: string;
let mediaDir: string;
let nginx: ServerProcess;
let cdn: FakeCdn;

/** The segment (its ranges checked), the movie and the playlist at `<base>/t/<token>/<path>`. */
function filesAt(url: (path: string) => string): OriginFile[] {
  return (['segment', 'movie', 'playlist'] as const).map((name) => ({ url: url(MEDIA[name]), path: join(mediaDir, MEDIA[name]), contentType: TYPES[name] }));
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'strm-bench-origin-'));
  mediaDir = join(workDir, 'media');
  await prepareMedia(mediaDir, { movieBytes: 3 * 1024 * KiB, segmentBytes: 256 * KiB });
  const binary = findNginx();
  if (binary === undefined) throw new Error('nginx is not installed (Debian package nginx, listed in tools/dev/required-tools.mjs)');
  nginx = await startNginxOrigin(binary, mediaDir, join(workDir, 'nginx'));
  cdn = await startFakeCdn({ mediaDir });
});

afterAll(async () => {
  await Promise.all([nginx?.stop(), cdn?.close()]);
  await rm(workDir, { recursive: true, force: true });
});

describe('checkOrigin', () => {
  it('finds nothing wrong with nginx serving the media under token URLs', async () => {
    expect(await checkOrigin(filesAt((path) => `${nginx.url}/t/any-token_1/${path}`), 0)).toEqual([]);
  });

  it('finds nothing wrong with the fake CDN that nginx replaces', async () => {
    expect(await checkOrigin(filesAt((path) => cdn.issue(path)), 0)).toEqual([]);
  });

  it('names every range answer of an origin that ignores Range', async () => {
    const problems = await checkOrigin(filesAt((path) => cdn.issue(path, { ignoreRange: true })), 0);
    expect(problems).toEqual([
      expect.stringMatching(/segment\.ts: HEAD: Accept-Ranges bytes, received null$/),
      expect.stringMatching(/segment\.ts: Range bytes=1000-1999: 206 with Content-Range bytes 1000-1999\/262144 and those 1000 bytes, received 200 with Content-Range null and 262144 bytes$/),
      expect.stringMatching(/segment\.ts: Range bytes=-100 \(suffix\): 206/),
      expect.stringMatching(/segment\.ts: Range bytes=262134- \(open\): 206/),
      expect.stringMatching(/segment\.ts: Range bytes=0-263144 \(past the end\): 206/),
      expect.stringMatching(/segment\.ts: Range with If-Range of its ETag: 206/),
      expect.stringMatching(/segment\.ts: Range bytes=262144- \(unsatisfiable\): 416 with Content-Range bytes \*\/262144, received 200/),
      expect.stringMatching(/movie\.mp4: HEAD: Accept-Ranges bytes, received null$/),
      expect.stringMatching(/index\.m3u8: HEAD: Accept-Ranges bytes, received null$/),
    ]);
  });

  it('names a file served with another Content-Type', async () => {
    const files = filesAt((path) => `${nginx.url}/t/token/${path}`);
    const problems = await checkOrigin([files[0]!, { ...files[1]!, contentType: 'video/mp2t' }], 0);
    expect(problems).toEqual([expect.stringMatching(/movie\.mp4: HEAD: Content-Type video\/mp2t, received "video\/mp4"$/)]);
  });
});

describe('origin.ts with a media origin', () => {
  it('hands out the fake CDN token URLs on nginx, which serves them as checked', async () => {
    const resolver = await startNodeServer('resolver', 'tools/bench/origin.ts', { args: [mediaDir, '0', nginx.url] });
    try {
      expect(resolver.url).toBe(nginx.url);
      const query = new URLSearchParams({ site: 'aniworld.to', slug: 'strm-bench', s: '1', e: String(EPISODE.movie), lang: 'German Dub' });
      const answer = await request(`${String(resolver.info.resolver)}/resolve?${query}`);
      const { url } = (await answer.body.json()) as { url: string };
      expect(url).toMatch(new RegExp(`^${nginx.url}/t/[A-Za-z0-9_-]+/${MEDIA.movie}$`));
      expect(await checkOrigin([{ url, path: join(mediaDir, MEDIA.movie), contentType: TYPES.movie }], 0)).toEqual([]);
    } finally {
      await resolver.stop();
    }
  });
});
