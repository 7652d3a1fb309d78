// Writes deploy/grafana/strm.json from the panel list below, so the dashboard's queries are
// reviewed as PromQL here rather than inside 1,000 lines of Grafana JSON. Run it after editing:
//   node tools/monitoring/make-dashboard.mjs        (writes the file)
//   node tools/monitoring/make-dashboard.mjs --check (exits 1 when the file is not up to date)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('../../deploy/grafana/strm.json', import.meta.url));
const SEL = 'job=~"$job", instance=~"$instance"';

/** [title, unit, description, [legend, expr]...]; each row of the grid holds two panels. */
const PANELS = [
  ['Requests by status', 'reqps', 'Answers per second, by HTTP status (all routes).',
    ['{{status}}', `sum by (status) (rate(strm_requests_total{${SEL}}[$__rate_interval]))`]],
  ['Requests by route', 'reqps', 'stream = the .strm entry URL, proxy = a rewritten playlist URI.',
    ['{{route}}', `sum by (route) (rate(strm_requests_total{${SEL}}[$__rate_interval]))`]],
  ['Upstream answers by class', 'reqps', 'What the CDNs answered: status classes, timeouts, network errors, addresses refused by the guard.',
    ['{{class}}', `sum by (class) (rate(strm_upstream_responses_total{${SEL}}[$__rate_interval]))`]],
  ['Active streams', 'short', 'Responses being streamed now.',
    ['streams', `sum(strm_active_streams{${SEL}})`]],
  ['Refreshes (re-resolutions)', 'ops', 'Re-resolutions after a stale upstream URL; a steady rate means links expire faster than the cache assumes.',
    ['{{route}}', `sum by (route) (rate(strm_refreshes_total{${SEL}}[$__rate_interval]))`]],
  ['Resumes of broken bodies', 'ops', 'Upstream bodies that broke off mid-way: resumed with a Range request, or given up (client connection aborted).',
    ['{{outcome}}', `sum by (outcome) (rate(strm_resumes_total{${SEL}}[$__rate_interval]))`]],
  ['Resolver calls', 'ops', 'Calls to the resolver, by outcome.',
    ['{{outcome}}', `sum by (outcome) (rate(strm_resolver_calls_total{${SEL}}[$__rate_interval]))`]],
  ['Resolver cache hit ratio', 'percentunit', 'Share of resolutions answered from the cache.',
    ['hit ratio', `sum(rate(strm_resolver_cache_hits_total{${SEL}}[$__rate_interval])) / clamp_min(sum(rate(strm_resolver_cache_hits_total{${SEL}}[$__rate_interval])) + sum(rate(strm_resolver_calls_total{${SEL}}[$__rate_interval])), 1e-9)`]],
  ['Bytes out', 'Bps', 'Body bytes sent to clients, by route.',
    ['{{route}}', `sum by (route) (rate(strm_bytes_out_total{${SEL}}[$__rate_interval]))`]],
  ['Time to first byte', 's', 'From the request to the response headers (resolution and upstream answer included).',
    ['p50', `histogram_quantile(0.5, sum by (le) (rate(strm_time_to_first_byte_seconds_bucket{${SEL}}[$__rate_interval])))`],
    ['p95', `histogram_quantile(0.95, sum by (le) (rate(strm_time_to_first_byte_seconds_bucket{${SEL}}[$__rate_interval])))`],
    ['p99', `histogram_quantile(0.99, sum by (le) (rate(strm_time_to_first_byte_seconds_bucket{${SEL}}[$__rate_interval])))`]],
  ['Playlist URIs rewritten', 'ops', 'URIs rewritten in playlists, by tag (URI-LINE for segment and playlist lines).',
    ['{{tag}}', `sum by (tag) (rate(strm_playlist_uris_rewritten_total{${SEL}}[$__rate_interval]))`]],
  ['Redis', 'short', 'With STRM_PROXY_REDIS_URL: 1 while Redis answers (per replica); fallbacks are operations served from the local cache.',
    ['up {{instance}}', `strm_redis_up{${SEL}}`],
    ['fallbacks {{operation}}', `sum by (operation) (rate(strm_redis_fallbacks_total{${SEL}}[$__rate_interval]))`]],
  ['Memory (RSS)', 'bytes', 'Resident memory of each proxy process.',
    ['{{instance}}', `strm_process_resident_memory_bytes{${SEL}}`]],
  ['CPU', 'percentunit', 'CPU time per second of each proxy process (1 = one core).',
    ['{{instance}}', `rate(strm_process_cpu_seconds_total{${SEL}}[$__rate_interval])`]],
];

function panel([title, unit, description, ...targets], index) {
  return {
    id: index + 1,
    type: 'timeseries',
    title,
    description,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
    fieldConfig: { defaults: { unit, min: 0 }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: targets.map(([legendFormat, expr], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat, datasource: { type: 'prometheus', uid: '${datasource}' } })),
  };
}

function variable(name, query) {
  return {
    name,
    type: 'query',
    label: name,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    query: { query, refId: name },
    definition: query,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    refresh: 2,
    sort: 1,
  };
}

const dashboard = {
  title: 'strm proxy',
  uid: 'strm-proxy',
  description: 'Requests, upstream health, refreshes, resumes, resolver, bytes, time to first byte, streams and Redis of the strm streaming proxy (its /metrics).',
  tags: ['strm', 'streaming'],
  editable: true,
  graphTooltip: 1,
  schemaVersion: 39,
  version: 1,
  time: { from: 'now-6h', to: 'now' },
  refresh: '30s',
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', label: 'Prometheus', query: 'prometheus', current: {}, hide: 0 },
      variable('job', 'label_values(strm_requests_total, job)'),
      variable('instance', 'label_values(strm_requests_total{job=~"$job"}, instance)'),
    ],
  },
  panels: PANELS.map(panel),
};

const text = `${JSON.stringify(dashboard, null, 2)}\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(OUT, 'utf8') !== text) {
    console.error(`${OUT} is not what tools/monitoring/make-dashboard.mjs makes: run it and commit the result`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
