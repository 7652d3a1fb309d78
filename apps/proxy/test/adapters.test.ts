import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';

// The adapters are plain Node scripts shipped in the package; their mapping functions are pure
// and exported, so the mapping is tested here on yt-dlp's and aniworld's real output shapes, and
// the scripts themselves run against the real yt-dlp and a stand-in aniworld in
// apps/e2e/test/resolver-command.e2e.test.ts.
const adapter = (name: string) => pathToFileURL(join(import.meta.dirname, '..', 'adapters', name)).href;
/* eslint-disable @typescript-eslint/no-explicit-any */
const ytDlp: any = await import(adapter('yt-dlp.mjs'));
const aniworld: any = await import(adapter('aniworld.mjs'));

const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/96.0';

describe('yt-dlp adapter: resolutionFromInfo(yt-dlp -J output)', () => {
  test.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'a progressive format: its url, headers without Accept-Encoding, provider, expire= as expiresAt',
      { extractor_key: 'Generic', url: 'https://cdn.example/v.mp4?expire=1893456000&sig=x', protocol: 'https', http_headers: { 'User-Agent': UA, 'Accept-Encoding': 'gzip, deflate', Referer: 'https://videos.example/e1' } },
      { url: 'https://cdn.example/v.mp4?expire=1893456000&sig=x', headers: { 'User-Agent': UA, Referer: 'https://videos.example/e1' }, provider: 'Generic', expiresAt: '2030-01-01T00:00:00.000Z' },
    ],
    [
      'an HLS format: its master playlist, so the player sees every rendition',
      { extractor_key: 'HTML5MediaEmbed', url: 'http://127.0.0.1:8081/hls/video/180p/index.m3u8', manifest_url: 'http://127.0.0.1:8081/hls/master.m3u8', protocol: 'm3u8_native', http_headers: { 'User-Agent': UA } },
      { url: 'http://127.0.0.1:8081/hls/master.m3u8', headers: { 'User-Agent': UA }, provider: 'HTML5MediaEmbed' },
    ],
    [
      'separate HLS video and audio (requested_formats, no top-level url): their common master playlist',
      {
        extractor_key: 'HTML5MediaEmbed', format_id: 'hls-266+hls-aud-English',
        requested_formats: [
          { format_id: 'hls-266', url: 'http://127.0.0.1:8081/hls-ts/video/180p/index.m3u8', manifest_url: 'http://127.0.0.1:8081/hls-ts/master.m3u8', protocol: 'm3u8_native', vcodec: 'avc1.4d401e', acodec: 'none', http_headers: { 'User-Agent': UA, Referer: 'http://127.0.0.1:8081/pages/hls-ts.html' } },
          { format_id: 'hls-aud-English', url: 'http://127.0.0.1:8081/hls-ts/audio/en/index.m3u8', manifest_url: 'http://127.0.0.1:8081/hls-ts/master.m3u8', protocol: 'm3u8_native', vcodec: 'none', http_headers: { 'User-Agent': UA } },
        ],
      },
      { url: 'http://127.0.0.1:8081/hls-ts/master.m3u8', headers: { 'User-Agent': UA, Referer: 'http://127.0.0.1:8081/pages/hls-ts.html' }, provider: 'HTML5MediaEmbed' },
    ],
    [
      'separate DASH video and audio files: the best format that carries both (yt-dlp lists worst first)',
      {
        extractor_key: 'Youtube',
        requested_formats: [
          { format_id: '137', url: 'https://r1.googlevideo.example/videoplayback?expire=1893456000&itag=137', protocol: 'https', vcodec: 'avc1.640028', acodec: 'none' },
          { format_id: '140', url: 'https://r1.googlevideo.example/videoplayback?expire=1893456000&itag=140', protocol: 'https', vcodec: 'none', acodec: 'mp4a.40.2' },
        ],
        formats: [
          { format_id: '18', url: 'https://r1.googlevideo.example/videoplayback?expire=1893456000&itag=18', protocol: 'https', vcodec: 'avc1.42001E', acodec: 'mp4a.40.2', http_headers: { 'User-Agent': UA } },
          { format_id: '137', url: 'https://r1.googlevideo.example/videoplayback?itag=137', protocol: 'https', vcodec: 'avc1.640028', acodec: 'none' },
          { format_id: '22', url: 'https://r1.googlevideo.example/videoplayback?expire=1893459600&itag=22', protocol: 'https', vcodec: 'avc1.64001F', acodec: 'mp4a.40.2', http_headers: { 'User-Agent': UA } },
        ],
      },
      { url: 'https://r1.googlevideo.example/videoplayback?expire=1893459600&itag=22', headers: { 'User-Agent': UA }, provider: 'Youtube', expiresAt: '2030-01-01T01:00:00.000Z' },
    ],
    [
      "yt-dlp's cookies field (Set-Cookie-like, with attributes) becomes one Cookie header",
      { url: 'https://cdn.example/v.mp4', http_headers: { 'User-Agent': UA }, cookies: 'SID=abc; Domain=.cdn.example; Path=/; Secure; Expires=1893456000; HSID=d=e; Domain=.cdn.example; Path=/' },
      { url: 'https://cdn.example/v.mp4', headers: { 'User-Agent': UA, Cookie: 'SID=abc; HSID=d=e' } },
    ],
    [
      'a Cookie already in http_headers (older yt-dlp) keeps its pairs and gets the others',
      { url: 'https://cdn.example/v.mp4', http_headers: { cookie: 'a=1' }, cookies: 'b=2; Path=/' },
      { url: 'https://cdn.example/v.mp4', headers: { cookie: 'a=1; b=2' } },
    ],
    [
      'an expiry in the path (/expire/<seconds>/) counts too',
      { url: 'https://cdn.example/hls/expire/1893456000/sig/x/master.m3u8', protocol: 'https' },
      { url: 'https://cdn.example/hls/expire/1893456000/sig/x/master.m3u8', headers: {}, expiresAt: '2030-01-01T00:00:00.000Z' },
    ],
    [
      'a playlist page: its first entry',
      { _type: 'playlist', entries: [null, { url: 'https://cdn.example/e1.mp4', extractor_key: 'Generic' }] },
      { url: 'https://cdn.example/e1.mp4', headers: {}, provider: 'Generic' },
    ],
  ])('%s', (_name, info, expected) => {
    expect(ytDlp.resolutionFromInfo(info)).toEqual(expected);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['no url anywhere', { title: 'x', formats: [] }, /found no playable URL/],
    ['separate DASH files and nothing muxed', { requested_formats: [{ url: 'https://a/v', protocol: 'https', vcodec: 'vp9', acodec: 'none' }, { url: 'https://a/a', protocol: 'https', vcodec: 'none', acodec: 'opus' }], formats: [] }, /no format carries both; add -f "b"/],
    ['an empty playlist', { _type: 'playlist', entries: [] }, /playlist without entries/],
  ])('%s is a problem (exit 2)', (_name, info, problem) => {
    expect(ytDlp.resolutionFromInfo(info).problem).toMatch(problem);
  });
});

describe('AniWorld-Downloader adapter', () => {
  test.each<[Record<string, unknown>, string]>([
    [{ site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3 }, 'https://aniworld.to/anime/stream/frieren/staffel-1/episode-3'],
    [{ site: 'aniworld.to', slug: 'one-piece', season: 0, episode: 2 }, 'https://aniworld.to/anime/stream/one-piece/filme/film-2'],
    [{ site: 's.to', slug: '9-1-1', season: 2, episode: 10 }, 'https://s.to/serie/stream/9-1-1/staffel-2/episode-10'],
  ])('episodePageUrl(%j)', (identity, url) => {
    expect(aniworld.episodePageUrl(identity)).toEqual({ url });
  });

  test.each<[Record<string, unknown>, RegExp]>([
    [{ site: 'bs.to', slug: 'x', season: 1, episode: 1 }, /site "bs.to" is not one of aniworld.to, s.to/],
    [{ site: 'aniworld.to', slug: '../../admin', season: 1, episode: 1 }, /is not a slug of aniworld.to/],
    [{ site: 'aniworld.to', slug: '$(reboot)', season: 1, episode: 1 }, /is not a slug/],
    [{ site: 'aniworld.to', slug: 'x', season: Number.NaN, episode: 1 }, /whole numbers/],
  ])('episodePageUrl(%j) is a problem (exit 2)', (identity, problem) => {
    expect(aniworld.episodePageUrl(identity).problem).toMatch(problem);
  });

  test.each<[string, string, string | undefined]>([
    ['exactly what -D prints', 'Frieren - S1E3 - (German Dub):\nhttps://delivery.voe.example/engine/hls2/01/x/master.m3u8?t=abc\n', 'https://delivery.voe.example/engine/hls2/01/x/master.m3u8?t=abc'],
    ['log lines before, CRLF, a blank line after the heading', 'Fetching episode…\r\nhttps://aniworld.to/anime/stream/frieren\r\nFrieren: Beyond Journey\'s End - S1E3 - (German Sub):\r\n\r\nhttps://cdn.example/v.mp4\r\n', 'https://cdn.example/v.mp4'],
    ['no heading: the last URL line', 'https://cdn.example/a.mp4\nhttps://cdn.example/b.mp4\n', 'https://cdn.example/b.mp4'],
    ['no link', 'No direct link found for VOE.\n', undefined],
  ])('directLinkOf: %s', (_name, output, link) => {
    expect(aniworld.directLinkOf(output)).toBe(link);
  });

  test('resolutionFor adds the provider\'s headers from the table, none for an unknown provider', () => {
    expect(aniworld.resolutionFor('https://cdn.example/v.m3u8', 'Vidmoly')).toEqual({ url: 'https://cdn.example/v.m3u8', headers: { Referer: 'https://vidmoly.biz/' }, provider: 'Vidmoly' });
    expect(aniworld.resolutionFor('https://cdn.example/v.m3u8', 'VOE').headers).toEqual({ Referer: 'https://voe.sx/', Origin: 'https://voe.sx' });
    expect(aniworld.resolutionFor('https://cdn.example/v.mp4', 'Streamtape').headers).toEqual({});
  });
});
