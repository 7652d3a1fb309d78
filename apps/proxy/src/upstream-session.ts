import type { UpstreamAbort } from './client-abort';
import { ProxyError } from './errors';
import type { ProxyMetrics } from './metrics';
import { planResumedBody } from './range-answer';
import { findFreshTarget, findMovedTarget, isStaleAttempt, knownToHaveMoved, type FreshTargetSource, type MovedLinkSource, type RefreshDeps } from './refresh';
import type { ResumeAsk } from './resume';
import { UpstreamFetchError, type UpstreamFetcher, type UpstreamResponse } from './upstream';
import { attemptWithRetry, discardAttempt, type ClientConditionals, type UpstreamTarget } from './upstream-retry';
import { discardBody } from './body-pump';

/** What a session needs from the proxy: the way out, the metrics, and where fresh URLs come from. */
export interface UpstreamSessionDeps extends RefreshDeps {
  upstream: UpstreamFetcher;
  metrics: ProxyMetrics;
}

/** A resumed body: its stream, and how many of its bytes come before the ones wanted. */
export interface ResumedBody {
  body: UpstreamResponse['body'];
  skip: number;
}

/**
 * Maps an upstream failure that outlived the refresh to the proxy's answer: the client is told
 * the failure's public message (no host, port or path), the log keeps the cause.
 */
function upstreamFailure(error: UpstreamFetchError): ProxyError {
  if (error.kind === 'timeout') return new ProxyError('STRM_UPSTREAM_TIMEOUT', error.publicMessage, { cause: error });
  if (error.kind === 'refused') return new ProxyError('STRM_UPSTREAM_REFUSED', error.publicMessage, { cause: error });
  return new ProxyError('STRM_UPSTREAM_FAILED', error.publicMessage, { cause: error });
}

/**
 * Everything one client request does upstream, in one object (like undici's `RetryHandler`): it
 * owns the current upstream URL, asks again through a burst of 5xx, turns HEAD into a probe for
 * origins that refuse it, refreshes a stale URL once (an entry is re-resolved, a link relocated)
 * and keeps the URL it found for every later request, and fetches the rest of a broken body.
 * The caller asks and reads what happened (`refreshes`, `resumes`, `status`); it hands over no
 * callbacks.
 */
export class UpstreamSession {
  /** Re-resolutions or relocations after a stale answer. */
  refreshes = 0;
  /** What made each refresh necessary: the stale status (`403`) or the failure kind (`timeout`). */
  readonly refreshedAfter: string[] = [];
  /** Bodies that broke off, resumed or not. */
  resumes = 0;
  /** The status of the last answer fetched for the client (resumes aside). */
  status: number | undefined;
  /** The host of the URL that answered it (after redirects). */
  host: string | undefined;
  /** The link's playlist was known to have moved: its URL was relocated before it was asked. */
  relocatedAhead = false;
  /**
   * After a relocation: the generation (entry URL fingerprint) the target was found under. The
   * links of a playlist fetched from it belong to that generation, not to the stale one.
   */
  generation: string | undefined;

  readonly #deps: UpstreamSessionDeps;
  readonly #source: FreshTargetSource;
  readonly #route: 'stream' | 'proxy';
  readonly #signal: UpstreamAbort;
  readonly #timeoutMs: number | undefined;
  #target: UpstreamTarget;
  #checkedAhead = false;

  /** `timeoutMs`: the upstream wait of a request the origin may hold (a blocking playlist reload). */
  constructor(deps: UpstreamSessionDeps, request: { target: UpstreamTarget; source: FreshTargetSource; route: 'stream' | 'proxy'; signal: UpstreamAbort; timeoutMs?: number | undefined }) {
    this.#deps = deps;
    this.#timeoutMs = request.timeoutMs;
    this.#target = request.target;
    this.#source = request.source;
    this.#route = request.route;
    this.#signal = request.signal;
  }

  /** The URL (and headers) the session fetches now: the refreshed one after a refresh. */
  get target(): UpstreamTarget {
    return this.#target;
  }

  /**
   * Fetches the resource for the client. When the answer says the URL went stale
   * (docs/contract.md, "Refresh"), a fresh URL is found and asked once more; that second answer
   * is final, whatever it is. A failure to get any answer throws its `ProxyError`.
   */
  fetch(method: 'GET' | 'HEAD', conditionals: ClientConditionals): Promise<UpstreamResponse> {
    return this.#fetchRefreshing(method, conditionals, /* forClient */ true);
  }

  /**
   * Fetches the rest of a broken body (`ask`: `Range: bytes=N-[M]` and the validator for
   * `If-Range`). Undefined when it cannot be had: the budget is spent, the request failed, or the
   * answer is not the rest of the same representation.
   */
  async resume(ask: ResumeAsk | undefined): Promise<ResumedBody | undefined> {
    this.resumes += 1;
    const resumed = ask === undefined ? undefined : await this.#resumeAt(ask);
    this.#deps.metrics.resumes.inc({ outcome: resumed === undefined ? 'gave-up' : 'resumed' });
    return resumed;
  }

  async #resumeAt(ask: ResumeAsk): Promise<ResumedBody | undefined> {
    let next: UpstreamResponse;
    try {
      next = await this.#fetchRefreshing('GET', { range: ask.range, ...(ask.ifRange !== undefined ? { 'if-range': ask.ifRange } : {}) });
    } catch {
      return undefined;
    }
    const planned = planResumedBody(ask, next);
    if (planned === undefined) {
      discardBody(next.body);
      return undefined;
    }
    return { body: next.body, skip: planned.skip };
  }

  /**
   * A stale answer is followed by one re-resolution at most. `forClient`: the answer is the one
   * the client gets (`fetch`), whose status and host are kept. A link relocated through the cached
   * resolution (no re-resolution) whose new URL is stale as well is relocated once more: that one
   * re-resolves (the generation it was moved to expired too).
   */
  async #fetchRefreshing(method: 'GET' | 'HEAD', conditionals: ClientConditionals, forClient = false): Promise<UpstreamResponse> {
    const request = { method, conditionals, signal: this.#signal, timeoutMs: this.#timeoutMs };
    if (!this.#checkedAhead) {
      // Once per session, and awaited only for a link whose playlist is known to have moved.
      this.#checkedAhead = true;
      if (knownToHaveMoved(this.#source, this.#deps)) await this.#relocateAhead(this.#source);
    }
    let result = await attemptWithRetry(this.#deps, this.#target, request);
    for (let relocations = 0; relocations < 2 && isStaleAttempt(result) && !this.#signal.aborted; relocations++) {
      const fresh = await this.#refresh(result);
      if (fresh === undefined) break;
      this.#target = fresh.target;
      this.generation = fresh.generation;
      result = await attemptWithRetry(this.#deps, this.#target, request);
      if (fresh.reResolved) break;
    }
    if ('error' in result) throw upstreamFailure(result.error);
    const { upstream } = result;
    if (forClient) {
      this.status = upstream.status;
      this.host = upstream.url.host;
    }
    return upstream;
  }

  /** Once per session: a link whose playlist is known to have moved starts at its new URL. */
  async #relocateAhead(source: MovedLinkSource): Promise<void> {
    const moved = await findMovedTarget(source, this.#deps);
    if (moved === undefined) return;
    this.#target = moved.target;
    this.generation = moved.generation;
    this.relocatedAhead = true;
  }

  async #refresh(stale: Parameters<typeof discardAttempt>[0]) {
    let fresh: Awaited<ReturnType<typeof findFreshTarget>>;
    try {
      fresh = await findFreshTarget(this.#source, this.#target, this.#deps);
    } catch (error) {
      discardAttempt(stale);
      throw error;
    }
    if (fresh === undefined) return undefined;
    discardAttempt(stale);
    this.refreshes += 1;
    this.refreshedAfter.push('error' in stale ? stale.error.kind : String(stale.upstream.status));
    this.#deps.metrics.refreshes.inc({ route: this.#route });
    return fresh;
  }
}
