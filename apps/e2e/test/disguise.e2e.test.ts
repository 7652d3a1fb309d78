import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CdnFaults } from '../src/fake-cdn';
import { walkBoth } from './support/playlists';
import { episode, startStack, type Stack } from './support/stack';
import { ffmpegAllowedSegmentExtensions, firstFrameDifference, framemd5, redact, runTool } from './support/tools';

// CDNs disguise segments (.jpg, .png, .html, no extension) and playlists (.txt, text/plain,
// octet-stream, a UTF-8 BOM). FFmpeg refuses some of them; through the proxy every one must play,
// under names that ffmpeg's HLS demuxer accepts by default.
interface Case {
  readonly label: string;
  readonly path: string;
  readonly faults: CdnFaults;
}
const disguised: Case[] = [
  { label: 'segments as .jpg', path: 'hls-ts/master.m3u8', faults: { disguiseSegments: 'jpg' } },
  { label: 'segments as .png (fMP4)', path: 'hls-fmp4/master.m3u8', faults: { disguiseSegments: 'png' } },
  { label: 'segments as .html', path: 'hls-ts/master.m3u8', faults: { disguiseSegments: 'html' } },
  { label: 'segments without an extension', path: 'hls-ts/master.m3u8', faults: { disguiseSegments: 'none' } },
  { label: 'playlists under .txt and segments as .jpg', path: 'hls-ts/master.m3u8', faults: { playlistPathSuffix: '.txt', disguiseSegments: 'jpg' } },
];
const playlistsAsText: Case[] = [
  { label: 'playlists under .txt (text/plain)', path: 'hls-ts/master.m3u8', faults: { playlistPathSuffix: '.txt' } },
  { label: 'playlists as text/plain', path: 'hls-fmp4/master.m3u8', faults: { playlistContentType: 'text/plain' } },
  { label: 'playlists as application/octet-stream', path: 'hls-byterange/index.m3u8', faults: { playlistContentType: 'application/octet-stream' } },
];
const withBom: Case[] = [
  { label: 'a master playlist with a UTF-8 BOM', path: 'hls-fmp4/master.m3u8', faults: { bom: true } },
  { label: 'a media playlist with a UTF-8 BOM', path: 'hls-byterange/index.m3u8', faults: { bom: true } },
];
const all = [...disguised, ...playlistsAsText, ...withBom];
const catalog = all.map((item, index) => episode('disguise', index + 1, item.path, { faults: item.faults }));
const entryOf = (item: Case) => catalog[all.indexOf(item)]!;

let stack: Stack;
let allowed: { option: string; extensions: readonly string[] };
beforeAll(async () => {
  stack = await startStack({ catalog });
  allowed = await ffmpegAllowedSegmentExtensions();
  console.log(`disguise: this ffmpeg's default ${allowed.option}: ${allowed.extensions.join(',')}`);
});
afterAll(async () => {
  await stack?.close();
});

/** Every rewritten URI of every playlist: a key may have any name (ffmpeg does not check it), anything else needs an allowed extension. */
async function namesThroughProxy(item: Case) {
  const { resources } = await walkBoth(stack.entryUrl(entryOf(item)), stack.cdn.issue(item.path, item.faults));
  return resources.map((resource) => {
    const name = resource.proxiedUri.split('/').pop() ?? '';
    const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
    const isKey = resource.context === '#EXT-X-KEY' || resource.context === '#EXT-X-SESSION-KEY';
    return { name, extension, isKey, upstream: resource.directUrl.split('/').slice(-2).join('/'), resource };
  });
}

describe('disguised segments: refused by ffmpeg directly when their extension is not allowed, played through the proxy', () => {
  test.each(disguised.map((item) => [item.label, item] as const))('%s', async (label, item) => {
    const directRun = await runTool('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-i', stack.cdn.issue(item.path, item.faults), '-map', '0?', '-f', 'framemd5', '-']);
    const disguise = item.faults.disguiseSegments!;
    const refusedByDefault = !allowed.extensions.includes(disguise === 'none' ? '' : disguise);
    const reference = await framemd5(stack.cdn.issue(item.path));
    const proxied = await framemd5(stack.entryUrl(entryOf(item)));
    const names = await namesThroughProxy(item);
    console.log(
      `disguise ${label}: ffmpeg directly → exit ${directRun.code}${directRun.stderr ? `: ${directRun.stderr.trim().split('\n')[0]}` : ''}; ` +
        `through the proxy ${proxied.frames.length} frames (undisguised direct ${reference.frames.length}); rewritten names: ` +
        names.map((n) => `${n.upstream}→${n.name}`).join(' '),
    );
    if (refusedByDefault) {
      expect(directRun.code, `${label}: ffmpeg played the disguised playlist directly`).not.toBe(0);
      expect(directRun.stderr).toMatch(new RegExp(`URL http://127\\.0\\.0\\.1:\\d+/t/[\\w-]+/\\S+/seg0${disguise === 'none' ? '' : `\\.${disguise}`} is not in ${allowed.option}`));
    } else {
      expect(directRun.code, `${label}: ${allowed.option} allows .${disguise}, yet ffmpeg failed: ${directRun.stderr}`).toBe(0);
    }
    expect(firstFrameDifference(reference, proxied), `${label}: framemd5 through the proxy differs from the undisguised playlist's`).toBeUndefined();
    const refused = names.filter((n) => !n.isKey && !allowed.extensions.includes(n.extension)).map((n) => `${n.resource.from}: ${n.upstream} → ${n.name}`);
    expect(refused, `${label}: rewritten names ffmpeg would refuse`).toEqual([]);
    expect(names.filter((n) => n.isKey).every((n) => n.extension === 'key')).toBe(true);
    expect(names.filter((n) => !n.resource.playlist && !n.isKey).length).toBeGreaterThan(0);
  });
});

describe('playlists served as text: played through the proxy under .m3u8 names with the HLS content type', () => {
  test.each(playlistsAsText.map((item) => [item.label, item] as const))('%s', async (label, item) => {
    const directRun = await runTool('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-i', stack.cdn.issue(item.path, item.faults), '-map', '0?', '-f', 'null', '-']);
    const reference = await framemd5(stack.cdn.issue(item.path));
    const proxied = await framemd5(stack.entryUrl(entryOf(item)));
    const names = await namesThroughProxy(item);
    const playlists = names.filter((n) => n.resource.playlist);
    const entry = await request(stack.entryUrl(entryOf(item)));
    await entry.body.dump();
    console.log(
      `disguise ${label}: ffmpeg directly → exit ${directRun.code}; through the proxy ${proxied.frames.length} frames (direct ${reference.frames.length}), ` +
        `entry answered ${String(entry.headers['content-type'])}; child playlists ${playlists.map((n) => `${n.upstream}→${n.name}`).join(' ') || '(none)'}`,
    );
    expect(firstFrameDifference(reference, proxied), `${label}: framemd5 differs`).toBeUndefined();
    expect(entry.headers['content-type']).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect(playlists.map((n) => n.extension)).toEqual(playlists.map(() => 'm3u8'));
    expect(names.filter((n) => !n.isKey && !allowed.extensions.includes(n.extension)).map((n) => n.name)).toEqual([]);
  });
});

describe('a playlist with a UTF-8 BOM (RFC 8216 forbids it): refused by ffmpeg directly, played through the proxy', () => {
  test.each(withBom.map((item) => [item.label, item] as const))('%s', async (label, item) => {
    const directUrl = stack.cdn.issue(item.path, item.faults);
    const raw = await request(directUrl);
    const rawHead = Buffer.from(await raw.body.arrayBuffer()).subarray(0, 10);
    const directRun = await runTool('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-i', directUrl, '-map', '0?', '-f', 'null', '-']);
    const reference = await framemd5(stack.cdn.issue(item.path));
    const proxiedUrl = stack.entryUrl(entryOf(item));
    const proxied = await framemd5(proxiedUrl);
    const rewritten = await request(proxiedUrl);
    const rewrittenHead = Buffer.from(await rewritten.body.arrayBuffer()).subarray(0, 10);
    console.log(
      `disguise ${label}: the CDN's first bytes ${rawHead.toString('hex')}, ffmpeg directly → exit ${directRun.code}: ${redact(directRun.stderr.trim())}; ` +
        `the proxy's first bytes ${rewrittenHead.toString('hex')} ("${rewrittenHead.toString('latin1').split('\n')[0]}"), ${proxied.frames.length} frames (clean direct ${reference.frames.length})`,
    );
    expect(rawHead.subarray(0, 3).toString('hex')).toBe('efbbbf');
    expect(directRun.code, `${label}: ffmpeg played the BOM playlist directly`).not.toBe(0);
    // FFmpeg 5.1 does not recognise the playlist and probes it as MPEG-TS, which fails one way or another.
    expect(directRun.stderr).toMatch(/Invalid data found when processing input|could not find codec parameters/);
    expect(rewrittenHead.toString('latin1')).toMatch(/^#EXTM3U/);
    expect(firstFrameDifference(reference, proxied), `${label}: framemd5 differs`).toBeUndefined();
  });
});
