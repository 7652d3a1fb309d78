import { ProxyError } from './errors';
import { setNewest } from './bounded-map';

/**
 * The Delivery Directives of a low-latency playlist request (RFC 8216bis §6.2.5): the query
 * parameters a player appends to the playlist URI it holds. `msn` makes it a blocking reload
 * (§6.2.5.2), `part` narrows it to a Partial Segment, `skip` asks for a Playlist Delta Update
 * (§6.2.5.1).
 */
export interface DeliveryDirectives {
  /** `_HLS_msn`: the Media Sequence Number the answer must contain. */
  msn?: number;
  /** `_HLS_part`: the Partial Segment of that segment (only with `_HLS_msn`). */
  part?: number;
  /** `_HLS_skip`: `YES` skips old segments, `v2` also old date ranges. */
  skip?: 'YES' | 'v2';
}

/** The directives the RFC defines for a media playlist, in the order they go upstream. */
const DIRECTIVE_NAMES = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;
type DirectiveName = (typeof DIRECTIVE_NAMES)[number];

/** A decimal-integer (RFC 8216bis §4.2): digits only, within the safe integers. */
const DECIMAL_INTEGER = /^\d{1,16}$/;

function badDirective(message: string): ProxyError {
  return new ProxyError('STRM_BAD_DELIVERY_DIRECTIVE', message);
}

function decimalInteger(name: DirectiveName, value: string): number {
  if (!DECIMAL_INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badDirective(`${name} must be a decimal integer (RFC 8216bis §6.2.5.2), received ${JSON.stringify(value.slice(0, 40))}`);
  }
  return Number(value);
}

/** The raw values of the defined directives in a query; a repeated one is refused. */
function directiveValues(query: string): Partial<Record<DirectiveName, string>> {
  const values: Partial<Record<DirectiveName, string>> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (!(DIRECTIVE_NAMES as readonly string[]).includes(name)) continue;
    if (values[name as DirectiveName] !== undefined) throw badDirective(`${name} is given more than once`);
    values[name as DirectiveName] = value;
  }
  return values;
}

/**
 * Reads the Delivery Directives of a playlist request's query (with or without its `?`). Only
 * the three the RFC defines for media playlists are kept; any other parameter, `_HLS_` or not,
 * is dropped, as every query parameter of a proxy link is: the token names the upstream URL. A
 * malformed value, `_HLS_part` without `_HLS_msn` (which the RFC answers with 400) or a repeated
 * directive throws `STRM_BAD_DELIVERY_DIRECTIVE` (400).
 *
 * @example
 * parseDeliveryDirectives('?_HLS_msn=273&_HLS_part=2&CMCD=x') // { msn: 273, part: 2 }
 * parseDeliveryDirectives('_HLS_skip=YES')                  // { skip: 'YES' }
 */
export function parseDeliveryDirectives(query: string): DeliveryDirectives {
  const values = directiveValues(query.startsWith('?') ? query.slice(1) : query);
  const directives: DeliveryDirectives = {};
  if (values._HLS_msn !== undefined) directives.msn = decimalInteger('_HLS_msn', values._HLS_msn);
  if (values._HLS_part !== undefined) {
    if (directives.msn === undefined) throw badDirective('_HLS_part needs _HLS_msn (RFC 8216bis §6.2.5.2)');
    directives.part = decimalInteger('_HLS_part', values._HLS_part);
  }
  if (values._HLS_skip !== undefined) {
    if (values._HLS_skip !== 'YES' && values._HLS_skip !== 'v2') {
      throw badDirective(`_HLS_skip must be YES or v2 (RFC 8216bis §6.2.5.1), received ${JSON.stringify(values._HLS_skip.slice(0, 40))}`);
    }
    directives.skip = values._HLS_skip;
  }
  return directives;
}

/** Whether a playlist request carries any Delivery Directive. */
export function hasDirectives(directives: DeliveryDirectives): boolean {
  return directives.msn !== undefined || directives.skip !== undefined;
}

/** Whether a request holds until the playlist has the segment asked for (RFC 8216bis §6.2.5.2). */
export function isBlockingReload(directives: DeliveryDirectives): boolean {
  return directives.msn !== undefined;
}

/**
 * The upstream URL with the directives as query parameters, after the URL's own (a directive the
 * URL already had is replaced).
 *
 * @example
 * withDeliveryDirectives('https://cdn.example/720.m3u8?tok=a', { msn: 273, part: 2 })
 * // 'https://cdn.example/720.m3u8?tok=a&_HLS_msn=273&_HLS_part=2'
 */
export function withDeliveryDirectives(url: string, directives: DeliveryDirectives): string {
  const pairs: Array<[DirectiveName, string | undefined]> = [
    ['_HLS_msn', directives.msn?.toString()],
    ['_HLS_part', directives.part?.toString()],
    ['_HLS_skip', directives.skip],
  ];
  const given = pairs.filter((pair): pair is [DirectiveName, string] => pair[1] !== undefined);
  if (given.length === 0) return url;
  const target = new URL(url);
  const kept = target.search === '' ? [] : target.search.slice(1).split('&').filter((pair) => !given.some(([name]) => pair === name || pair.startsWith(`${name}=`)));
  target.search = [...kept, ...given.map(([name, value]) => `${name}=${value}`)].join('&');
  return target.href;
}

/** Target durations assumed for a blocking reload of a playlist not read yet. */
const UNKNOWN_TARGET_DURATION_SECONDS = 10;
/** Playlists whose target duration is remembered (most recently rewritten). */
const REMEMBERED_PLAYLISTS = 1024;
/** How far into a playlist the target duration is looked for (it is a header tag). */
const TARGET_DURATION_SCAN_BYTES = 64 * 1024;

/**
 * The `EXT-X-TARGETDURATION` of the live playlists the proxy rewrote, by upstream URL. A blocking
 * reload may be held by the origin for up to three target durations before it answers (RFC
 * 8216bis §6.2.5.2), so its upstream wait is the proxy's usual timeout plus that. Players load a
 * playlist once without directives before they block on it, so its target duration is known by
 * then; otherwise {@link UNKNOWN_TARGET_DURATION_SECONDS} is assumed.
 */
export class TargetDurations {
  readonly #seconds = new Map<string, number>();

  /** Remembers the target duration of the playlist at `url` (least recently seen ones are forgotten). */
  remember(url: string, seconds: number): void {
    setNewest(this.#seconds, url, seconds, REMEMBERED_PLAYLISTS);
  }

  /** The upstream time allowed to a blocking reload of `url`: `timeoutMs` plus three target durations. */
  blockingTimeoutMs(url: string, timeoutMs: number): number {
    const seconds = this.#seconds.get(url) ?? UNKNOWN_TARGET_DURATION_SECONDS;
    return timeoutMs + 3 * seconds * 1000;
  }
}

/** Bytes of a playlist's end kept to look for `EXT-X-ENDLIST` (its last tag, in practice). */
const END_SCAN_BYTES = 64;

/**
 * What the proxy learns of a playlist from its chunks as they are read: its `EXT-X-TARGETDURATION`
 * (in the first chunks) and whether it ends with `EXT-X-ENDLIST` (players do not reload it).
 *
 * @example
 * const scan = new PlaylistScan();
 * scan.push(Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n'));
 * scan.seconds // 4
 * scan.ended   // true
 */
export class PlaylistScan {
  seconds: number | undefined;
  #text = '';
  #tail = '';

  push(chunk: Buffer): void {
    this.#tail = (this.#tail + chunk.toString('latin1', Math.max(0, chunk.length - END_SCAN_BYTES))).slice(-END_SCAN_BYTES);
    if (this.seconds !== undefined || this.#text.length >= TARGET_DURATION_SCAN_BYTES) return;
    this.#text += chunk.toString('latin1', 0, Math.min(chunk.length, TARGET_DURATION_SCAN_BYTES));
    const found = /^#EXT-X-TARGETDURATION:[ \t]*(\d{1,6})[ \t]*\r?\n/m.exec(this.#text);
    if (found !== null) {
      this.seconds = Number(found[1]);
      this.#text = '';
    }
  }

  /** Whether the playlist read so far ends with an `EXT-X-ENDLIST` line. */
  get ended(): boolean {
    return /(^|\n)#EXT-X-ENDLIST[ \t]*(\r?\n)*$/.test(this.#tail);
  }
}
