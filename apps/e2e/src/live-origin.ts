import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The fake CDN's live origins, generated on the fly from one looped fragmented MP4 (made by
 * `tools/fixtures/generate-live-media.mjs`: a 0.5-second fragment at every keyframe), on a clock:
 *
 * - `live/index.m3u8`: a sliding-window live playlist, 1-second segments (two fragments each),
 *   `EXT-X-MEDIA-SEQUENCE` advancing with the clock, a window of `window` segments.
 * - `ll/master.m3u8` → `ll/index.m3u8`: low-latency HLS (RFC 8216bis): 2-second segments of four
 *   0.5-second parts (`EXT-X-PART` byte ranges of the segment), blocking reloads (`_HLS_msn`,
 *   `_HLS_part`, held up to three target durations, then 503), delta updates (`_HLS_skip`),
 *   `EXT-X-PRELOAD-HINT` of the next part with an open `BYTERANGE-START`, and the segment being
 *   written served while it grows (an open range answers with an indeterminate length, RFC 8673).
 *
 * Every segment carries `EXT-X-PROGRAM-DATE-TIME`: the wall time its first picture was produced,
 * so a player's real latency is `now - playingDate`.
 */
export interface LiveOriginOptions {
  /** The looped media: a fragmented MP4 whose fragments all last `FRAGMENT_SECONDS`. */
  readonly media: Buffer;
  /** Media seconds produced per wall second; default 1 (a player plays in real time). */
  readonly speed?: number;
  /** Segments in the sliding-window playlist; default 6. */
  readonly window?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** What a live answer adds to the CDN's request log. */
export interface LiveLog {
  status: number;
  bytesSent: number;
  completed: boolean;
}

/** A running pair of live origins (see {@link LiveOriginOptions}). */
export interface LiveOrigin {
  /** Answers `path` (below the CDN's token, `live/…` or `ll/…`); false when it is not a live path. */
  serve(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, log: LiveLog): boolean;
  /** Stops the timers of held requests (they are answered 503). */
  close(): void;
}

const FRAGMENT_SECONDS = 0.5;
const LIVE_SEGMENT_FRAGMENTS = 2;
const LL_SEGMENT_FRAGMENTS = 4;
const LL_TARGET_DURATION = 2;
/** Segments the low-latency playlist keeps: 20 s, more than CAN-SKIP-UNTIL, so delta updates skip some. */
const LL_WINDOW = 10;
/** Complete segments whose parts the low-latency playlist still lists (RFC 8216bis §4.4.4.9: recent ones only). */
const LL_SEGMENTS_WITH_PARTS = 2;
/** The very large last-byte-pos of an indeterminate-length answer (RFC 8673). */
const VERY_LARGE = 9_007_199_254_740_991;
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

interface Box {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  /** Where the payload starts (after size and type). */
  readonly body: number;
}

/** The ISO BMFF boxes of `bytes[from, to)`. */
function boxes(bytes: Buffer, from: number, to: number): Box[] {
  const found: Box[] = [];
  for (let at = from; at + 8 <= to; ) {
    let size = bytes.readUInt32BE(at);
    let body = at + 8;
    if (size === 1) {
      size = Number(bytes.readBigUInt64BE(at + 8));
      body = at + 16;
    }
    if (size < 8 || at + size > to) throw new Error(`live media: a box at ${at} overruns the file`);
    found.push({ type: bytes.toString('latin1', at + 4, at + 8), start: at, end: at + size, body });
    at += size;
  }
  return found;
}

function child(bytes: Buffer, parent: Box, type: string, offset = 0): Box {
  const box = boxes(bytes, parent.body + offset, parent.end).find((candidate) => candidate.type === type);
  if (box === undefined) throw new Error(`live media: no ${type} in ${parent.type}`);
  return box;
}

/** The media, split: the init section, the fragments and where each one's decode time lives. */
interface LoopedMedia {
  readonly init: Buffer;
  readonly fragments: readonly Buffer[];
  /** Offset of the `tfdt` box in each fragment, its version, and its decode time. */
  readonly decodeTimes: ReadonlyArray<{ offset: number; version: number; time: bigint }>;
  /** The loop's length in the track's timescale. */
  readonly loopTicks: bigint;
}

function splitMedia(media: Buffer): LoopedMedia {
  const top = boxes(media, 0, media.length);
  const firstMoof = top.findIndex((box) => box.type === 'moof');
  if (firstMoof === -1) throw new Error('live media: not a fragmented MP4 (no moof)');
  const moov = top.find((box) => box.type === 'moov')!;
  const mdhd = child(media, child(media, child(media, moov, 'trak'), 'mdia'), 'mdhd');
  const timescale = media.readUInt32BE(mdhd.body + (media[mdhd.body] === 1 ? 20 : 12));
  const fragments: Buffer[] = [];
  const decodeTimes: Array<{ offset: number; version: number; time: bigint }> = [];
  for (let index = firstMoof; index + 1 < top.length && top[index]!.type === 'moof'; index += 2) {
    const moof = top[index]!;
    const mdat = top[index + 1]!;
    if (mdat.type !== 'mdat') throw new Error('live media: a moof without its mdat');
    const tfdt = child(media, child(media, moof, 'traf'), 'tfdt');
    const version = media[tfdt.body]!;
    const time = version === 1 ? media.readBigUInt64BE(tfdt.body + 4) : BigInt(media.readUInt32BE(tfdt.body + 4));
    fragments.push(media.subarray(moof.start, mdat.end));
    decodeTimes.push({ offset: tfdt.body + 4 - moof.start, version, time });
  }
  const fragmentTicks = BigInt(Math.round(FRAGMENT_SECONDS * timescale));
  decodeTimes.forEach((entry, index) => {
    if (entry.time !== BigInt(index) * fragmentTicks) throw new Error(`live media: fragment ${index} does not start at ${index * FRAGMENT_SECONDS} s`);
  });
  return { init: Buffer.from(media.subarray(0, top[firstMoof]!.start)), fragments, decodeTimes, loopTicks: BigInt(fragments.length) * fragmentTicks };
}

/** Fragment `index` of the endless stream: the looped one, its decode time moved to its place. */
function fragmentAt(media: LoopedMedia, index: number): Buffer {
  const loop = Math.floor(index / media.fragments.length);
  const within = index % media.fragments.length;
  const fragment = Buffer.from(media.fragments[within]!);
  const { offset, version, time } = media.decodeTimes[within]!;
  const moved = time + BigInt(loop) * media.loopTicks;
  if (version === 1) fragment.writeBigUInt64BE(moved, offset);
  else fragment.writeUInt32BE(Number(moved & 0xffffffffn), offset);
  return fragment;
}

/**
 * Starts the live origins' clock now: the streams have been running for a while already, so the
 * first playlists hold a full window.
 */
export function createLiveOrigin(options: LiveOriginOptions): LiveOrigin {
  const media = splitMedia(options.media);
  const speed = options.speed ?? 1;
  const window = options.window ?? 6;
  const now = options.now ?? Date.now;
  if (!(speed > 0) || !Number.isInteger(window) || window < 3) throw new TypeError(`createLiveOrigin: speed must be > 0 and window an integer >= 3, received ${speed} and ${window}`);
  const startedAt = now();
  /** Media seconds produced before `startedAt`. */
  const before = (LL_WINDOW + 1) * LL_TARGET_DURATION;
  const held = new Set<{ timer: NodeJS.Timeout; res: ServerResponse }>();

  const mediaSeconds = () => before + ((now() - startedAt) / 1000) * speed;
  /** Fragments complete so far. */
  const produced = () => Math.floor(mediaSeconds() / FRAGMENT_SECONDS + 1e-9);
  /** Wall time (ms) when fragment `count - 1` completes, i.e. `produced() >= count`. */
  const wallWhenProduced = (count: number) => startedAt + ((count * FRAGMENT_SECONDS - before) / speed) * 1000;
  /** Program date-time of a media second: when its picture was produced, at this speed. */
  const dateOf = (second: number) => new Date(startedAt + ((second - before) / speed) * 1000).toISOString();

  const segmentBytes = (first: number, count: number) => Buffer.concat(Array.from({ length: count }, (_, i) => fragmentAt(media, first + i)));

  function send(res: ServerResponse, log: LiveLog, status: number, headers: Record<string, string>, body: Buffer | string, bodyless = false): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    log.status = status;
    res.writeHead(status, { 'cache-control': 'no-cache', ...headers, 'content-length': String(bytes.length) });
    res.end(bodyless ? undefined : bytes, () => {
      log.bytesSent = bodyless ? 0 : bytes.length;
      log.completed = true;
    });
  }

  /** Calls `answer` once `produced() >= count`, or answers 503 after `limitMs` (RFC 8216bis §6.2.5.2). */
  function whenProduced(res: ServerResponse, log: LiveLog, count: number, limitMs: number, answer: () => void): void {
    const wait = wallWhenProduced(count) - now();
    if (wait <= 0) return answer();
    if (wait > limitMs) return send(res, log, 503, { 'content-type': 'text/plain' }, 'not produced within three target durations\n');
    const entry = { res, timer: setTimeout(() => {
      held.delete(entry);
      if (!res.destroyed) answer();
    }, Math.ceil(wait)) };
    held.add(entry);
    res.once('close', () => {
      clearTimeout(entry.timer);
      held.delete(entry);
    });
  }

  /** A complete segment or the init section, with exact single ranges. */
  function sendWhole(req: IncomingMessage, res: ServerResponse, log: LiveLog, bytes: Buffer): void {
    const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const isHead = req.method === 'HEAD';
    if (match === null) return send(res, log, 200, { 'content-type': 'video/iso.segment', 'accept-ranges': 'bytes' }, bytes, isHead);
    const start = Number(match[1]);
    const end = Math.min(match[2] === '' ? bytes.length - 1 : Number(match[2]), bytes.length - 1);
    if (start > end) return send(res, log, 416, { 'content-range': `bytes */${bytes.length}` }, '');
    send(res, log, 206, { 'content-type': 'video/iso.segment', 'content-range': `bytes ${start}-${end}/${bytes.length}` }, bytes.subarray(start, end + 1), isHead);
  }

  // ---- the sliding-window live origin ----

  function livePlaylist(): string {
    const last = Math.floor(produced() / LIVE_SEGMENT_FRAGMENTS) - 1;
    const first = last - window + 1;
    const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-MAP:URI="init.mp4"'];
    for (let msn = first; msn <= last; msn += 1) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${dateOf(msn * LIVE_SEGMENT_FRAGMENTS * FRAGMENT_SECONDS)}`, `#EXTINF:${(LIVE_SEGMENT_FRAGMENTS * FRAGMENT_SECONDS).toFixed(3)},`, `seg${msn}.m4s`);
    }
    return `${lines.join('\n')}\n`;
  }

  function serveLive(req: IncomingMessage, res: ServerResponse, name: string, log: LiveLog): boolean {
    if (name === 'index.m3u8') {
      send(res, log, 200, { 'content-type': PLAYLIST_TYPE }, livePlaylist(), req.method === 'HEAD');
      return true;
    }
    if (name === 'init.mp4') {
      sendWhole(req, res, log, media.init);
      return true;
    }
    const segment = /^seg(\d{1,9})\.m4s$/.exec(name);
    if (segment === null) return false;
    const msn = Number(segment[1]);
    const last = Math.floor(produced() / LIVE_SEGMENT_FRAGMENTS) - 1;
    // Gone once it left the window (a few segments of grace, as CDNs keep them a little longer).
    if (msn > last || msn < last - window - 3) {
      send(res, log, 404, { 'content-type': 'text/plain' }, 'not in the live window\n');
      return true;
    }
    sendWhole(req, res, log, segmentBytes(msn * LIVE_SEGMENT_FRAGMENTS, LIVE_SEGMENT_FRAGMENTS));
    return true;
  }

  // ---- the low-latency origin ----

  function llPlaylist(count: number, skip: boolean): string {
    const current = Math.floor(count / LL_SEGMENT_FRAGMENTS);
    const partsOfCurrent = count - current * LL_SEGMENT_FRAGMENTS;
    const first = current - LL_WINDOW;
    const canSkipUntil = 6 * LL_TARGET_DURATION;
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      `#EXT-X-TARGETDURATION:${LL_TARGET_DURATION}`,
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${canSkipUntil.toFixed(1)},PART-HOLD-BACK=${(3 * FRAGMENT_SECONDS).toFixed(1)}`,
      `#EXT-X-PART-INF:PART-TARGET=${FRAGMENT_SECONDS.toFixed(1)}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
      '#EXT-X-MAP:URI="init.mp4"',
    ];
    // A delta update skips the segments more than CAN-SKIP-UNTIL before the end (RFC 8216bis §6.2.5.1).
    const skipped = skip ? Math.max(0, LL_WINDOW - canSkipUntil / LL_TARGET_DURATION) : 0;
    if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
    const segmentSize = (msn: number) => Array.from({ length: LL_SEGMENT_FRAGMENTS }, (_, i) => fragmentAt(media, msn * LL_SEGMENT_FRAGMENTS + i).length);
    const parts = (msn: number, available: number) => {
      let offset = 0;
      const sizes = segmentSize(msn);
      for (let part = 0; part < available; part += 1) {
        lines.push(`#EXT-X-PART:DURATION=${FRAGMENT_SECONDS.toFixed(3)},URI="seg${msn}.m4s",BYTERANGE="${sizes[part]}@${offset}",INDEPENDENT=YES`);
        offset += sizes[part]!;
      }
      return offset;
    };
    for (let msn = first + skipped; msn < current; msn += 1) {
      if (msn >= current - LL_SEGMENTS_WITH_PARTS) parts(msn, LL_SEGMENT_FRAGMENTS);
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${dateOf(msn * LL_TARGET_DURATION)}`, `#EXTINF:${LL_TARGET_DURATION.toFixed(3)},`, `seg${msn}.m4s`);
    }
    if (partsOfCurrent > 0) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${dateOf(current * LL_TARGET_DURATION)}`);
    const hintAt = parts(current, partsOfCurrent);
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg${current}.m4s",BYTERANGE-START=${hintAt}`);
    return `${lines.join('\n')}\n`;
  }

  /** The fragments needed for the playlist a blocking reload asks for: segment `msn` whole, or its part `part`. */
  function fragmentsFor(query: URLSearchParams): number | 'bad' {
    const msn = query.get('_HLS_msn');
    const part = query.get('_HLS_part');
    if (msn === null) return part === null ? 0 : 'bad';
    if (!/^\d+$/.test(msn) || (part !== null && !/^\d+$/.test(part))) return 'bad';
    const base = Number(msn) * LL_SEGMENT_FRAGMENTS;
    return part === null ? base + LL_SEGMENT_FRAGMENTS : base + Number(part) + 1;
  }

  function serveLlPlaylist(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, log: LiveLog): void {
    const needed = fragmentsFor(query);
    const skip = query.get('_HLS_skip') === 'YES' || query.get('_HLS_skip') === 'v2';
    const answer = () => send(res, log, 200, { 'content-type': PLAYLIST_TYPE }, llPlaylist(produced(), skip), req.method === 'HEAD');
    // RFC 8216bis §6.2.5.2: a segment more than two past the last one is a client error.
    if (needed === 'bad' || needed > (Math.floor(produced() / LL_SEGMENT_FRAGMENTS) + 2) * LL_SEGMENT_FRAGMENTS + LL_SEGMENT_FRAGMENTS) {
      return send(res, log, 400, { 'content-type': 'text/plain' }, 'bad delivery directives\n');
    }
    whenProduced(res, log, needed, 3 * LL_TARGET_DURATION * 1000 / speed, answer);
  }

  /**
   * The segment being written. A range within what exists, or ending within it, answers 206 with
   * an unknown complete length once its last byte exists; an open range streams from its start
   * as the parts come, to the end of the segment (RFC 8673: `bytes N-<very large>/*`).
   */
  function serveGrowing(req: IncomingMessage, res: ServerResponse, msn: number, log: LiveLog): void {
    const first = msn * LL_SEGMENT_FRAGMENTS;
    const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const limitMs = 3 * LL_TARGET_DURATION * 1000 / speed;
    const sizes = Array.from({ length: LL_SEGMENT_FRAGMENTS }, (_, i) => fragmentAt(media, first + i).length);
    const fragmentsUpTo = (byte: number) => {
      let total = 0;
      for (let i = 0; i < sizes.length; i += 1) {
        total += sizes[i]!;
        if (byte < total) return i + 1;
      }
      return sizes.length;
    };
    if (match === null) return whenProduced(res, log, first + LL_SEGMENT_FRAGMENTS, limitMs, () => sendWhole(req, res, log, segmentBytes(first, LL_SEGMENT_FRAGMENTS)));
    const start = Number(match[1]);
    if (match[2] !== '') {
      const end = Number(match[2]);
      return whenProduced(res, log, first + fragmentsUpTo(end), limitMs, () => {
        const bytes = segmentBytes(first, fragmentsUpTo(end));
        send(res, log, 206, { 'content-type': 'video/iso.segment', 'content-range': `bytes ${start}-${Math.min(end, bytes.length - 1)}/*` }, bytes.subarray(start, end + 1));
      });
    }
    whenProduced(res, log, first + fragmentsUpTo(start), limitMs, () => streamGrowing(res, log, { first, start, sizes, limitMs }));
  }

  /** Writes a growing segment from byte `start`, each part as it is produced, then ends. */
  function streamGrowing(res: ServerResponse, log: LiveLog, at: { first: number; start: number; sizes: number[]; limitMs: number }): void {
    log.status = 206;
    res.writeHead(206, { 'content-type': 'video/iso.segment', 'content-range': `bytes ${at.start}-${VERY_LARGE}/*`, 'cache-control': 'no-cache' });
    let offset = 0;
    const writePart = (index: number) => {
      const fragment = fragmentAt(media, at.first + index);
      const from = Math.max(0, at.start - offset);
      offset += fragment.length;
      if (from < fragment.length) {
        res.write(fragment.subarray(from));
        log.bytesSent += fragment.length - from;
      }
      if (index + 1 === at.sizes.length) {
        res.end(() => (log.completed = true));
        return;
      }
      whenProduced(res, log, at.first + index + 2, at.limitMs, () => writePart(index + 1));
    };
    writePart(0);
  }

  function serveLl(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams, log: LiveLog): boolean {
    if (name === 'master.m3u8') {
      send(res, log, 200, { 'content-type': PLAYLIST_TYPE }, '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180\nindex.m3u8\n', req.method === 'HEAD');
      return true;
    }
    if (name === 'index.m3u8') {
      serveLlPlaylist(req, res, query, log);
      return true;
    }
    if (name === 'init.mp4') {
      sendWhole(req, res, log, media.init);
      return true;
    }
    const segment = /^seg(\d{1,9})\.m4s$/.exec(name);
    if (segment === null) return false;
    const msn = Number(segment[1]);
    const current = Math.floor(produced() / LL_SEGMENT_FRAGMENTS);
    if (msn === current) serveGrowing(req, res, msn, log);
    else if (msn < current && msn >= current - LL_WINDOW - 2) sendWhole(req, res, log, segmentBytes(msn * LL_SEGMENT_FRAGMENTS, LL_SEGMENT_FRAGMENTS));
    else send(res, log, 404, { 'content-type': 'text/plain' }, 'not in the live window\n');
    return true;
  }

  return {
    serve(req, res, path, query, log) {
      const [origin, name, ...rest] = path.split('/');
      if (rest.length > 0 || name === undefined) return false;
      if (origin === 'live') return serveLive(req, res, name, log);
      if (origin === 'll') return serveLl(req, res, name, query, log);
      return false;
    },
    close() {
      for (const { timer, res } of held) {
        clearTimeout(timer);
        res.destroy();
      }
      held.clear();
    },
  };
}
