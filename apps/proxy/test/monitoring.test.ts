// The Grafana dashboard and the Prometheus alert rules under deploy/ against the proxy's real
// /metrics: every metric they query exists, every metric family the proxy exports has a panel,
// and promtool accepts the rules and their unit tests (deploy/prometheus/alerts.test.yml).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '../../../tools/testing/redis-server';
import { fetchAll, startResolver, startTestProxy, type TestProxy, type TestResolver } from './support/servers';

const run = promisify(execFile);
const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const DASHBOARD = root('deploy/grafana/strm.json');
const PROMETHEUS = root('deploy/prometheus');

/** Families from the exposition's `# TYPE name kind` lines (present even before a first sample). */
function metricFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
  return families;
}

/** The family a queried series name belongs to: itself, or a histogram's `_bucket`/`_sum`/`_count`. */
function familyOf(series: string, families: Map<string, string>): string | undefined {
  if (families.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return families.get(base) === 'histogram' ? base : undefined;
}

const metricNames = (text: string) => new Set(text.match(/\bstrm_[a-z0-9_]+/g) ?? []);

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

let redis: RedisServer;
let resolver: TestResolver;
let proxy: TestProxy;
let families: Map<string, string>;

beforeAll(async () => {
  redis = await startRedisServer();
  resolver = await startResolver([]);
  proxy = await startTestProxy(resolver, { STRM_PROXY_REDIS_URL: redis.url });
  await proxy.waitForLog((line) => line.redis === 'up');
  families = metricFamilies((await fetchAll(`${proxy.url}/metrics`)).body.toString());
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
  await redis?.stop();
});

describe('deploy/grafana/strm.json', () => {
  test('is what tools/monitoring/make-dashboard.mjs makes', async () => {
    await expect(run(process.execPath, [root('tools/monitoring/make-dashboard.mjs'), '--check'])).resolves.toBeDefined();
  });

  test('queries only metrics that /metrics exports', () => {
    const queried = metricNames(dashboardExpressions().join('\n'));
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => familyOf(name, families) === undefined)).toEqual([]);
  });

  test("has a panel for every metric family of the proxy's own (not Node's process metrics)", () => {
    const queried = [...metricNames(dashboardExpressions().join('\n'))].map((name) => familyOf(name, families));
    const own = [...families.keys()].filter((name) => !name.startsWith('strm_process_') && !name.startsWith('strm_nodejs_'));
    expect(own).toContain('strm_redis_up');
    expect(own.filter((name) => !queried.includes(name))).toEqual([]);
  });
});

describe('deploy/prometheus/alerts.yml', () => {
  test('queries only metrics that /metrics exports', () => {
    const queried = metricNames(readFileSync(`${PROMETHEUS}/alerts.yml`, 'utf8'));
    expect([...queried].sort()).toEqual(['strm_redis_up', 'strm_refreshes_total', 'strm_resolver_calls_total', 'strm_upstream_responses_total']);
    expect([...queried].filter((name) => familyOf(name, families) === undefined)).toEqual([]);
  });

  test('promtool check rules accepts it', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS });
    expect(stdout).toContain('SUCCESS: 4 rules found');
  });

  test('promtool test rules: each alert fires when it should and not otherwise', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: PROMETHEUS });
    expect(stdout).toContain('SUCCESS');
  });
});
