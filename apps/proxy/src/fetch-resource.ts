import { setTimeout } from 'node:timers/promises';
import { ProxyError } from './errors';
import { discardBody } from './body-pump';
import type { ProxyMetrics } from './metrics';
import { statusClass } from './metrics';
import { upstreamRequestHeaders, UpstreamFetchError, type UpstreamFetcher, type UpstreamResponse } from './upstream';

/** Where an upstream request goes: a URL and the headers the CDN needs. */
export interface UpstreamTarget {
  url: string;
  headers: Record<string, string>;
}

/** The client headers a proxy forwards (range and conditionals), already vetted. */
export interface ClientConditionals {
  range?: string | undefined;
  'if-range'?: string | undefined;
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
}

/** Statuses that mean "this upstream URL went stale": re-resolve and try once more (SPEC 2.6). */
export const STALE_STATUSES = new Set([401, 403, 404, 410, 429, 451]);

/** Statuses of an overloaded origin, worth asking the same URL again after a short pause. */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);
/** Pauses before asking an origin again after a transient status; bounded, so a dead origin costs < 1 s. */
const TRANSIENT_RETRY_DELAYS_MS = [100, 400];

type Attempt = { upstream: UpstreamResponse } | { error: UpstreamFetchError };

export interface FetchDeps {
  upstream: UpstreamFetcher;
  metrics: ProxyMetrics;
}

function discard(attempt: Attempt): void {
  if ('upstream' in attempt) discardBody(attempt.upstream.body);
}

function isStale(attempt: Attempt): boolean {
  if ('error' in attempt) return attempt.error.kind !== 'refused';
  return STALE_STATUSES.has(attempt.upstream.status);
}

/**
 * HEAD, for origins that refuse it (405/501), becomes a one-byte GET whose Content-Range
 * tells the full length; the answer is rebuilt as the HEAD of the whole resource.
 */
async function headWithFallback(deps: FetchDeps, target: UpstreamTarget, headers: Record<string, string>, signal: AbortSignal): Promise<UpstreamResponse> {
  const head = await deps.upstream.fetch({ url: target.url, method: 'HEAD', headers, signal });
  if (head.status !== 405 && head.status !== 501) return head;
  discardBody(head.body);
  const probe = await deps.upstream.fetch({ url: target.url, method: 'GET', headers: { ...headers, range: 'bytes=0-0' }, signal });
  discardBody(probe.body);
  const rebuilt = { ...probe.headers };
  if (probe.status === 206) {
    const total = /\/(\d+)$/.exec(String(probe.headers['content-range'] ?? ''))?.[1];
    delete rebuilt['content-range'];
    if (total !== undefined) rebuilt['content-length'] = total;
    else delete rebuilt['content-length'];
    rebuilt['accept-ranges'] = 'bytes';
    return { ...probe, status: 200, headers: rebuilt };
  }
  return probe;
}

async function attemptOnce(deps: FetchDeps, target: UpstreamTarget, method: 'GET' | 'HEAD', conditionals: ClientConditionals, signal: AbortSignal): Promise<Attempt> {
  const headers = upstreamRequestHeaders(target.headers, method === 'HEAD' ? {} : conditionals);
  try {
    const upstream = method === 'HEAD'
      ? await headWithFallback(deps, target, headers, signal)
      : await deps.upstream.fetch({ url: target.url, method, headers, signal });
    deps.metrics.upstreamResponses.inc({ class: statusClass(upstream.status) });
    return { upstream };
  } catch (error) {
    if (!(error instanceof UpstreamFetchError)) throw error;
    deps.metrics.upstreamResponses.inc({ class: error.kind });
    return { error };
  }
}

/** One attempt, asking again (same URL) while the origin answers with a burst of 5xx. */
async function attempt(deps: FetchDeps, target: UpstreamTarget, method: 'GET' | 'HEAD', conditionals: ClientConditionals, signal: AbortSignal): Promise<Attempt> {
  let result = await attemptOnce(deps, target, method, conditionals, signal);
  for (const delay of TRANSIENT_RETRY_DELAYS_MS) {
    if (!('upstream' in result) || !TRANSIENT_STATUSES.has(result.upstream.status) || signal.aborted) break;
    discard(result);
    await setTimeout(delay, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    result = await attemptOnce(deps, target, method, conditionals, signal);
  }
  return result;
}

/** Maps an upstream failure that survived the refresh to the proxy's answer. */
export function upstreamFailure(error: UpstreamFetchError): ProxyError {
  if (error.kind === 'timeout') return new ProxyError('STRM_UPSTREAM_TIMEOUT', error.message, { cause: error });
  if (error.kind === 'refused') return new ProxyError('STRM_UPSTREAM_REFUSED', error.message, { cause: error });
  return new ProxyError('STRM_UPSTREAM_FAILED', error.message, { cause: error });
}

/**
 * Fetches a target; when the first answer says the URL went stale (SPEC 2.6: 401, 403, 404,
 * 410, 429, 451, a connection error or a timeout), asks `target(true, stale)` for a fresh one
 * and tries once more. The second answer is final, whatever it is.
 */
export async function fetchWithRefresh(
  deps: FetchDeps,
  request: { method: 'GET' | 'HEAD'; conditionals: ClientConditionals; signal: AbortSignal; onRefresh: () => void },
  target: (refresh: boolean, stale?: UpstreamTarget) => Promise<UpstreamTarget | undefined>,
): Promise<{ upstream: UpstreamResponse; target: UpstreamTarget }> {
  let current = (await target(false))!;
  let result = await attempt(deps, current, request.method, request.conditionals, request.signal);
  if (isStale(result) && !request.signal.aborted) {
    const fresh = await target(true, current);
    if (fresh !== undefined) {
      discard(result);
      request.onRefresh();
      current = fresh;
      result = await attempt(deps, current, request.method, request.conditionals, request.signal);
    }
  }
  if ('error' in result) throw upstreamFailure(result.error);
  return { upstream: result.upstream, target: current };
}
