// One fuzz run: the proxy (child process) over the fake CDN and the hostile origin, the surface
// requests and the playlist/manifest cases interleaved on a few connections at once, `/healthz`
// sampled all along, every answer judged (see verdict.ts). Returns the figures; prints nothing.
import { mediaFixtures } from '@strm/e2e';
import { request } from 'undici';
import { SeededRandom } from '../harness/random';
import { sampleHealthz, loadAverage, type HealthzFigures } from '../harness/samplers';
import { startHarnessStack, type HarnessStack } from '../harness/stack';
import { exchange, type RawAnswer } from './raw-http';
import { startHostileOrigin } from './hostile-origin';
import { LONG_SCALE, SHORT_SCALE } from './mutate-playlist';
import { fuzzRequest, type SurfaceSeeds } from './surface';
import { judgeAnswer, type Problem } from './verdict';

export interface FuzzOptions {
  seed: number;
  /** Requests against the HTTP surface. */
  requests: number;
  /** Mutated playlists, and mutated manifests, each asked through the proxy (plus up to 3 of its links). */
  playlists: number;
  manifests: number;
  /** Exchanges at once. */
  concurrency: number;
  /** `long` reaches the limits (50,000 extra URIs, 128 KiB variables, 1.2 MB lines). */
  scale: 'short' | 'long';
  /** One exchange that has not ended by then is a hang. */
  answerTimeoutMs?: number;
}

export interface FuzzReport {
  seed: number;
  seconds: number;
  loadAverage: string;
  requests: number;
  byKind: Record<string, number>;
  playlists: number;
  manifests: number;
  /** Rewritten links asked for (sealed tokens the proxy minted for the mutated documents). */
  links: number;
  statuses: Record<string, number>;
  /** Answers whose body ended short of their framing (seen as cut by the client, as they must be). */
  visibleCuts: number;
  problems: Partial<Record<Problem, { count: number; examples: string[] }>>;
  /** The proxy process is still running at the end. */
  alive: boolean;
  /** `unexpected failure` lines in the proxy's log (errors it did not foresee). */
  unexpectedFailures: number;
  healthz: HealthzFigures;
  hostileServed: number;
}

type Job = { kind: string; method: string; bytes: Buffer } | { kind: 'playlist' | 'manifest'; caseNumber: number };

/** Signed entries of the fixtures and sealed links of two rewritten playlists: what the surface mutates. */
async function surfaceSeeds(stack: HarnessStack): Promise<SurfaceSeeds> {
  const entries = mediaFixtures.map((_, index) => new URL(stack.entryUrl('fixture', index + 1)));
  const links: string[] = [];
  for (const name of ['hls-ts', 'hls-fmp4']) {
    const index = mediaFixtures.findIndex((fixture) => fixture.name === name);
    const master = await (await request(stack.entryUrl('fixture', index + 1))).body.text();
    const found = master.match(/\/strm\/proxy\/[^\s"]+/g) ?? [];
    links.push(...found);
    if (found[0] !== undefined) {
      const media = await (await request(`${stack.proxy.url}${found[0]}`)).body.text();
      links.push(...(media.match(/\/strm\/proxy\/[^\s"]+/g) ?? []));
    }
  }
  return { host: new URL(stack.proxy.url).host, entries: entries.map((url) => `${url.pathname}${url.search}`), links };
}

/** Sealed links in a rewritten document, as request paths (templates filled with 1). */
function linksIn(body: Buffer): string[] {
  const found = body.toString('utf8').match(/\/strm\/proxy\/[^\s"'<>]+/g) ?? [];
  return [...new Set(found.map((path) => path.replace(/\$[^$]*\$/g, '1').replace(/&amp;/g, '&')))];
}

const getRequest = (path: string, host: string) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1');

/** Runs the fuzz and returns its figures. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const scale = options.scale === 'long' ? LONG_SCALE : SHORT_SCALE;
  // Longer than the proxy's 30 s header deadline: a request left incomplete gets its 408 in time.
  const timeoutMs = options.answerTimeoutMs ?? 40_000;
  const hostile = await startHostileOrigin(options.seed, scale);
  const stack = await startHarnessStack({
    episodes: (cdn) => [
      ...mediaFixtures.map((fixture, index) => ({ slug: 'fixture', episode: index + 1, url: cdn.issue(fixture.path) })),
      ...Array.from({ length: options.playlists }, (_, n) => ({ slug: 'hls', episode: n + 1, url: `${hostile.url}/hls/${n + 1}/index.m3u8` })),
      ...Array.from({ length: options.manifests }, (_, n) => ({ slug: 'dash', episode: n + 1, url: `${hostile.url}/dash/${n + 1}/manifest.mpd` })),
    ],
  });
  const upstreamHosts = [hostile.host, `127.0.0.1:${stack.cdn.port}`];
  const report: FuzzReport = {
    seed: options.seed, seconds: 0, loadAverage: '', requests: 0, byKind: {}, playlists: 0, manifests: 0, links: 0, statuses: {}, visibleCuts: 0,
    problems: {}, alive: true, unexpectedFailures: 0, healthz: { samples: 0, failures: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 }, hostileServed: 0,
  };
  const port = Number(new URL(stack.proxy.url).port);
  const host = new URL(stack.proxy.url).host;

  const record = (answer: RawAnswer, method: string, label: string) => {
    report.requests += 1;
    const status = answer.status === undefined ? answer.outcome : String(answer.status);
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
    if (answer.cut) report.visibleCuts += 1;
    const problem = judgeAnswer(answer, { method }, upstreamHosts);
    if (problem === undefined) return;
    const entry = (report.problems[problem] ??= { count: 0, examples: [] });
    entry.count += 1;
    const how = answer.closedBy === undefined ? '' : ` (${answer.closedBy}, ${Math.round(answer.ms)} ms)`;
    if (entry.examples.length < 5) entry.examples.push(`${label} → ${status}${how} ${answer.body.subarray(0, 160).toString('utf8').replace(/\s+/g, ' ')}`);
  };

  const seeds = await surfaceSeeds(stack);
  const random = new SeededRandom(options.seed);
  const jobs: Job[] = [];
  for (let i = 0; i < options.requests; i += 1) jobs.push(fuzzRequest(random.fork(i), seeds));
  for (let n = 1; n <= options.playlists; n += 1) jobs.push({ kind: 'playlist', caseNumber: n });
  for (let n = 1; n <= options.manifests; n += 1) jobs.push({ kind: 'manifest', caseNumber: n });
  // Interleaved (seeded shuffle): the playlist cases run while the surface is being fuzzed.
  for (let i = jobs.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }

  const runJob = async (job: Job) => {
    if ('bytes' in job) {
      report.byKind[job.kind] = (report.byKind[job.kind] ?? 0) + 1;
      const answer = await exchange(port, job.bytes, job.method, timeoutMs);
      record(answer, job.method, `${job.kind} ${job.bytes.subarray(0, 100).toString('latin1').split('\r\n')[0]}`);
      return;
    }
    const slug = job.kind === 'playlist' ? 'hls' : 'dash';
    if (job.kind === 'playlist') report.playlists += 1;
    else report.manifests += 1;
    const entry = new URL(stack.entryUrl(slug, job.caseNumber));
    const answer = await exchange(port, getRequest(`${entry.pathname}${entry.search}`, host), 'GET', timeoutMs);
    record(answer, 'GET', `${job.kind} case ${job.caseNumber} (seed ${options.seed})`);
    if (answer.status !== 200) return;
    for (const link of linksIn(answer.body).slice(0, 3)) {
      report.links += 1;
      record(await exchange(port, getRequest(link, host), 'GET', timeoutMs), 'GET', `${job.kind} case ${job.caseNumber} link`);
    }
  };

  const healthz = sampleHealthz(stack.proxy.url, 50);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && stack.proxy.alive()) await runJob(jobs[next++]!);
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    report.healthz = await healthz.stop();
    report.alive = stack.proxy.alive();
    report.unexpectedFailures = stack.proxy.logs.filter((line) => line.msg === 'unexpected failure').length;
    report.hostileServed = hostile.served;
    report.loadAverage = await loadAverage();
    await stack.close().catch(() => undefined);
    await hostile.close();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** The figures as text, one per line. */
export function formatFuzzReport(report: FuzzReport): string {
  const problems = Object.entries(report.problems).map(([name, { count, examples }]) => `  ${name}: ${count}\n${examples.map((e) => `    e.g. ${e}`).join('\n')}`);
  return [
    `fuzz (seed ${report.seed}): ${report.requests} requests in ${report.seconds.toFixed(1)} s (load average ${report.loadAverage})`,
    `  surface by kind: ${Object.entries(report.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  mutated playlists ${report.playlists}, manifests ${report.manifests}, rewritten links asked ${report.links}; hostile origin answered ${report.hostileServed}`,
    `  statuses: ${Object.entries(report.statuses).sort().map(([k, v]) => `${k}×${v}`).join(' ')}`,
    `  bodies cut visibly (short of their framing, connection closed): ${report.visibleCuts}`,
    `  proxy alive at the end: ${report.alive ? 'yes' : 'NO (crashed)'}; unexpected failures logged: ${report.unexpectedFailures}`,
    `  /healthz during the fuzz: ${report.healthz.samples} samples, p50 ${report.healthz.p50Ms.toFixed(1)} ms, p99 ${report.healthz.p99Ms.toFixed(1)} ms, max ${report.healthz.maxMs.toFixed(0)} ms, ${report.healthz.failures} failed`,
    problems.length === 0 ? '  problems: none' : `  problems:\n${problems.join('\n')}`,
  ].join('\n');
}
