/**
 * What the desktop-player suites (mpv, VLC) play: every HLS shape of the fixtures and an MP4 with
 * its moov box first and last. The MP4s are the 8-second 2 MB files of `mediaDirWithLargeMp4s()`
 * (the committed ones fit in one read buffer, so a seek in them would need no Range request).
 */
export interface PlayerCase {
  readonly name: string;
  /** Path under the media folder: what the resolver hands out and the CDN serves. */
  readonly path: string;
  readonly what: string;
  /** Seconds of media: the decode must cover about this much. */
  readonly seconds: number;
  /** Where the seek case starts playing, inside the last part of the media. */
  readonly seekTo: number;
  /** A master playlist whose variants a player chooses among: play each of the two. */
  readonly variants?: boolean;
}

export const playerCases: readonly PlayerCase[] = [
  { name: 'hls-ts-aes', path: 'hls-ts/video/180p/index.m3u8', what: 'MPEG-TS media playlist, AES-128 with an explicit IV, key URI with ../../', seconds: 4, seekTo: 2.3 },
  { name: 'hls-ts-master', path: 'hls-ts/master.m3u8', what: 'master: two variants, AES-128 audio rendition (IV from the sequence number), subtitles, I-frames', seconds: 4, seekTo: 2.3, variants: true },
  { name: 'hls-fmp4', path: 'hls-fmp4/master.m3u8', what: 'fMP4 segments with EXT-X-MAP', seconds: 4, seekTo: 2.3 },
  { name: 'hls-byterange', path: 'hls-byterange/index.m3u8', what: 'EXT-X-BYTERANGE into one media.ts', seconds: 4, seekTo: 2.3 },
  { name: 'mp4-moov-first', path: 'seek-faststart/video.mp4', what: 'progressive MP4, moov first, 8 s, 2 MB', seconds: 8, seekTo: 5.5 },
  { name: 'mp4-moov-last', path: 'seek-moov-end/video.mp4', what: 'progressive MP4, moov last, 8 s, 2 MB', seconds: 8, seekTo: 5.5 },
];
