import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The proxy's Prometheus metrics, in a registry of its own (never prom-client's global one). */
export interface ProxyMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  upstreamResponses: Counter<'class'>;
  refreshes: Counter<'route'>;
  resumes: Counter<'outcome'>;
  resolverCalls: Counter<'outcome'>;
  resolverCacheHits: Counter;
  bytesOut: Counter<'route'>;
  timeToFirstByte: Histogram<'route'>;
  rewrittenUris: Counter<'tag'>;
  activeStreams: Gauge;
}

/** Creates the metrics of one proxy instance; `defaults` adds process metrics (CPU, memory, event loop). */
export function createMetrics(options: { defaults?: boolean } = {}): ProxyMetrics {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'strm_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'strm_requests_total', help: 'Requests answered, by route and status', labelNames: ['route', 'status'], registers }),
    upstreamResponses: new Counter({ name: 'strm_upstream_responses_total', help: 'Upstream answers by status class (2xx, 3xx, 4xx, 5xx, timeout, network, refused)', labelNames: ['class'], registers }),
    refreshes: new Counter({ name: 'strm_refreshes_total', help: 'Re-resolutions after a stale upstream URL', labelNames: ['route'], registers }),
    resumes: new Counter({ name: 'strm_resumes_total', help: 'Upstream bodies that failed mid-way, by what the proxy managed', labelNames: ['outcome'], registers }),
    resolverCalls: new Counter({ name: 'strm_resolver_calls_total', help: 'Calls to the resolver, by outcome', labelNames: ['outcome'], registers }),
    resolverCacheHits: new Counter({ name: 'strm_resolver_cache_hits_total', help: 'Resolutions answered from the cache', registers }),
    bytesOut: new Counter({ name: 'strm_bytes_out_total', help: 'Body bytes sent to clients', labelNames: ['route'], registers }),
    timeToFirstByte: new Histogram({
      name: 'strm_time_to_first_byte_seconds',
      help: 'Time from the request to the response headers',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    rewrittenUris: new Counter({ name: 'strm_playlist_uris_rewritten_total', help: 'Playlist URIs rewritten, by tag (URI-LINE for URI lines)', labelNames: ['tag'], registers }),
    activeStreams: new Gauge({ name: 'strm_active_streams', help: 'Responses being streamed now', registers }),
  };
}

/** `2xx` for 204, `timeout` for a failure kind. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
