import { discardBody } from './body-pump';
import { pauseUnlessAborted, type UpstreamAbort } from './client-abort';
import { statusClass, type ProxyMetrics } from './metrics';
import { headOfWholeFromProbe } from './range-answer';
import { upstreamRequestHeaders, UpstreamFetchError, type UpstreamFetcher, type UpstreamResponse } from './upstream';

/** Where an upstream request goes: a URL and the headers the CDN needs (from the resolver). */
export interface UpstreamTarget {
  url: string;
  headers: Record<string, string>;
  /**
   * For a media playlist loaded from a multivariant playlist: that playlist's `EXT-X-DEFINE`
   * variables, which this one may IMPORT (RFC 8216bis 4.4.2.3). A relocation finds fresh ones.
   */
  variables?: Readonly<Record<string, string>>;
}

/** The client headers a proxy forwards (range and conditionals), already vetted. */
export interface ClientConditionals {
  range?: string | undefined;
  'if-range'?: string | undefined;
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
}

/** What one upstream request came to: an answer (any status), or a failure to get one. */
export type UpstreamAttempt = { upstream: UpstreamResponse } | { error: UpstreamFetchError };

/** The way out to the origins and the counter of their answers. */
export interface UpstreamDeps {
  upstream: UpstreamFetcher;
  metrics: ProxyMetrics;
}

/** Statuses of an overloaded origin, worth asking the same URL again after a short pause. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);
/** Pauses before asking an origin again after a transient status; bounded, so a dead origin costs < 1 s. */
const TRANSIENT_RETRY_DELAYS_MS = [100, 400];

/** Drops the body of an attempt that will not be answered with. */
export function discardAttempt(attempt: UpstreamAttempt): void {
  if ('upstream' in attempt) discardBody(attempt.upstream.body);
}

/**
 * HEAD, for origins that refuse it (405/501), becomes a one-byte GET whose Content-Range
 * tells the full length; the answer is rebuilt as the HEAD of the whole resource.
 */
async function headWithFallback(deps: UpstreamDeps, target: UpstreamTarget, headers: Record<string, string>, signal: UpstreamAbort | undefined): Promise<UpstreamResponse> {
  const head = await deps.upstream.fetch({ url: target.url, method: 'HEAD', headers, ...(signal ? { signal } : {}) });
  if (head.status !== 405 && head.status !== 501) return head;
  discardBody(head.body);
  const probe = await deps.upstream.fetch({ url: target.url, method: 'GET', headers: { ...headers, range: 'bytes=0-0' }, ...(signal ? { signal } : {}) });
  discardBody(probe.body);
  return { ...probe, ...headOfWholeFromProbe(probe) };
}

async function attemptOnce(deps: UpstreamDeps, target: UpstreamTarget, request: AttemptRequest): Promise<UpstreamAttempt> {
  const { method, conditionals, signal, timeoutMs } = request;
  const headers = upstreamRequestHeaders(target.headers, method === 'HEAD' ? {} : conditionals);
  try {
    const upstream = method === 'HEAD'
      ? await headWithFallback(deps, target, headers, signal)
      : await deps.upstream.fetch({ url: target.url, method, headers, ...(signal ? { signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    deps.metrics.upstreamResponses.inc({ class: statusClass(upstream.status) });
    return { upstream };
  } catch (error) {
    if (!(error instanceof UpstreamFetchError)) throw error;
    deps.metrics.upstreamResponses.inc({ class: error.kind });
    return { error };
  }
}

/** One upstream request: `timeoutMs` for one the origin may hold (see `UpstreamFetcher.fetch`). */
export interface AttemptRequest {
  method: 'GET' | 'HEAD';
  conditionals: ClientConditionals;
  signal?: UpstreamAbort | undefined;
  timeoutMs?: number | undefined;
}

/**
 * One request to one URL, asked again (same URL) while the origin answers with a burst of 5xx;
 * every answer and failure is counted in `strm_upstream_responses_total`. Failures to connect or
 * time-outs are returned, not thrown: whether they call for a refresh is the caller's decision.
 */
export async function attemptWithRetry(
  deps: UpstreamDeps,
  target: UpstreamTarget,
  request: AttemptRequest,
): Promise<UpstreamAttempt> {
  const { signal } = request;
  let result = await attemptOnce(deps, target, request);
  for (const delay of TRANSIENT_RETRY_DELAYS_MS) {
    if (!('upstream' in result) || !TRANSIENT_STATUSES.has(result.upstream.status) || signal?.aborted) break;
    discardAttempt(result);
    await pauseUnlessAborted(delay, signal);
    if (signal?.aborted) break;
    result = await attemptOnce(deps, target, request);
  }
  return result;
}
