import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EpisodeIdentity } from '@strm/resolver-client';

/**
 * What the board reads of one request while it runs: the request's own record (the proxy's
 * `RequestState`), read live at every snapshot, so the request path only has to keep it current.
 */
export interface TrackedRequest {
  readonly route: 'stream' | 'proxy' | 'other';
  readonly startedAt: number;
  readonly bytes: number;
  readonly refreshes: number;
  readonly resumes: number;
  readonly upstreamHost?: string | undefined;
  readonly identity?: EpisodeIdentity | undefined;
  /** Why the request failed, when it did: a `STRM_…` code and a cause that holds no secret. */
  readonly failure?: { readonly code: string; readonly cause: string } | undefined;
}

/** One response being sent now, as `/status.json` shows it. */
export interface StreamSnapshot {
  id: number;
  episode: string | null;
  client: string;
  route: string;
  /** `/strm/stream`, or the file name of a `/strm/proxy/<token>/<name>` request (never the token). */
  path: string;
  /** The status sent to the client, or null while the proxy is still waiting for the upstream. */
  status: number | null;
  bytes: number;
  /** Body bytes per second over the last few seconds (since the start for a young stream). */
  bytesPerSecond: number;
  durationMs: number;
  upstreamHost: string | null;
  refreshes: number;
  resumes: number;
}

/** One failed request, as `/status.json` shows it. */
export interface FailureSnapshot {
  /** ISO 8601. */
  time: string;
  episode: string | null;
  client: string;
  route: string;
  path: string;
  status: number;
  code: string;
  cause: string;
  upstreamHost: string | null;
}

export interface StatusBoardOptions {
  /** The clock, ms since the epoch. */
  now: () => number;
  /** Failures kept, newest first. Default 100. */
  maxFailures?: number;
  /** Window of the current rate, ms. Default 5000. */
  rateWindowMs?: number;
  /** Called with the number of responses in flight whenever it changes (the `strm_active_streams` gauge). */
  onActiveChange?: (active: number) => void;
}

interface Entry {
  id: number;
  request: TrackedRequest;
  res: ServerResponse;
  client: string;
  path: string;
  /** Byte counts seen by earlier snapshots, oldest first, for the current rate. */
  samples: Array<{ at: number; bytes: number }>;
}

/** Longest text of a request (path, episode fields) kept: these come from clients. */
const MAX_TEXT = 120;
const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/**
 * `slug S01E03 · German Dub · aniworld.to` (and ` · VOE` when a provider was asked for).
 *
 * @example
 * episodeLabel({ site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' });
 * // 'frieren S01E03 · German Dub · aniworld.to'
 */
export function episodeLabel(identity: EpisodeIdentity): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const parts = [`${identity.slug} S${pad(identity.season)}E${pad(identity.episode)}`, identity.language, identity.site];
  if (identity.provider !== undefined) parts.push(identity.provider);
  return clip(parts.join(' · '));
}

/** The peer's address (no `::ffff:` prefix), and the first `X-Forwarded-For` hop a reverse proxy names. */
function clientAddress(req: IncomingMessage): string {
  const peer = (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first ? clip(`${first} (via ${peer})`) : peer;
}

/**
 * What a status page may show of a request path: the entry route's path without its query
 * (signature, API key), or only the file name of a proxied URI (its token holds the upstream URL).
 */
export function shownPath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path.startsWith('/strm/proxy/')) return clip(path.slice(path.lastIndexOf('/') + 1));
  return clip(path);
}

/**
 * The live part of the status page: the responses in flight and the last failures. The proxy
 * registers each media request once ({@link StatusBoard.track}); the board reads the request's
 * record when asked for a snapshot, drops the request when its response closes, and keeps the
 * request as a failure when it ended with a status of 400 or more or a recorded failure.
 *
 * @example
 * const board = new StatusBoard({ now: Date.now, onActiveChange: (n) => gauge.set(n) });
 * board.track(req, res, state);
 * board.snapshot().streams[0]; // { episode: 'frieren S01E03 · German Dub · aniworld.to', bytes: 1048576, … }
 */
export class StatusBoard {
  readonly #now: () => number;
  readonly #maxFailures: number;
  readonly #rateWindowMs: number;
  readonly #onActiveChange: ((active: number) => void) | undefined;
  /** The responses in flight, oldest first. */
  readonly #active = new Map<ServerResponse, Entry>();
  readonly #failures: FailureSnapshot[] = [];
  /** The 'close' listener of every tracked response (one function for all, not a closure per request). */
  readonly #onResponseClose: (this: ServerResponse) => void;
  #nextId = 1;

  constructor(options: StatusBoardOptions) {
    this.#now = options.now;
    this.#maxFailures = options.maxFailures ?? 100;
    this.#rateWindowMs = options.rateWindowMs ?? 5000;
    this.#onActiveChange = options.onActiveChange;
    const release = this.#release;
    // Like the request log line: after the promise callbacks that settle the failure have run.
    this.#onResponseClose = function (this: ServerResponse) {
      setImmediate(release, this);
    };
  }

  /** Shows `request` until `res` closes; then keeps it as a failure if it failed. */
  track(req: IncomingMessage, res: ServerResponse, request: TrackedRequest): void {
    const entry: Entry = { id: this.#nextId++, request, res, client: clientAddress(req), path: shownPath(req.url ?? ''), samples: [] };
    this.#active.set(res, entry);
    this.#onActiveChange?.(this.#active.size);
    // `on`, not `once`: 'close' comes once per response, and `once` would wrap the listener anew.
    res.on('close', this.#onResponseClose);
    // A response still waiting behind another on a pipelined connection that the client closed
    // never closes on Node 20; its request does (after the response, when that one closes).
    req.on('close', () => setImmediate(this.#release, res));
  }

  readonly #release = (res: ServerResponse): void => {
    const entry = this.#active.get(res);
    if (entry !== undefined) this.#finish(entry);
  };

  #finish(entry: Entry): void {
    this.#active.delete(entry.res);
    this.#onActiveChange?.(this.#active.size);
    const { request, res } = entry;
    if (request.failure === undefined && res.statusCode < 400) return;
    this.recordFailure({
      time: new Date(this.#now()).toISOString(),
      episode: request.identity ? episodeLabel(request.identity) : null,
      client: entry.client,
      route: request.route,
      path: entry.path,
      status: res.statusCode,
      code: request.failure?.code ?? `HTTP_${res.statusCode}`,
      cause: request.failure?.cause ?? '',
      upstreamHost: request.upstreamHost ?? null,
    });
  }

  /** Keeps a failure (the oldest beyond `maxFailures` goes). */
  recordFailure(failure: FailureSnapshot): void {
    this.#failures.unshift(failure);
    if (this.#failures.length > this.#maxFailures) this.#failures.length = this.#maxFailures;
  }

  /** Responses in flight (oldest first) and failures (newest first), as plain data. */
  snapshot(): { streams: StreamSnapshot[]; failures: FailureSnapshot[] } {
    const now = this.#now();
    const streams = [...this.#active.values()].map((entry) => this.#streamSnapshot(entry, now));
    return { streams, failures: this.#failures.map((failure) => ({ ...failure })) };
  }

  #streamSnapshot(entry: Entry, now: number): StreamSnapshot {
    const { request, res } = entry;
    return {
      id: entry.id,
      episode: request.identity ? episodeLabel(request.identity) : null,
      client: entry.client,
      route: request.route,
      path: entry.path,
      status: res.headersSent ? res.statusCode : null,
      bytes: request.bytes,
      bytesPerSecond: this.#rate(entry, now),
      durationMs: Math.max(0, now - request.startedAt),
      upstreamHost: request.upstreamHost ?? null,
      refreshes: request.refreshes,
      resumes: request.resumes,
    };
  }

  /**
   * Bytes per second since the oldest sample inside the window; the window slides with each
   * snapshot, so one page polling every few seconds sees the rate of those seconds.
   */
  #rate(entry: Entry, now: number): number {
    const { samples, request } = entry;
    samples.push({ at: now, bytes: request.bytes });
    while (samples.length > 2 && samples[1]!.at <= now - this.#rateWindowMs) samples.shift();
    const from = samples.length > 1 && samples[0]!.at < now ? samples[0]! : { at: request.startedAt, bytes: 0 };
    const elapsed = now - from.at;
    return elapsed > 0 ? Math.round(((request.bytes - from.bytes) * 1000) / elapsed) : 0;
  }
}
