// One soak run: the proxy (child process) over the fake CDN under a mixed load for a while —
// ranges of a big file checked byte for byte, HLS trees walked through the proxy and directly in
// step, whole files aborted part way, HEADs, playlists — with its RSS, heap and open descriptors
// sampled all along. Returns the figures; prints nothing.
import { createHash } from 'node:crypto';
import { hashBigFile, mediaFixtures } from '@strm/e2e';
import { Agent, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { mismatches, walkBoth } from '../../apps/e2e/test/support/playlists';
import { SeededRandom } from '../harness/random';
import { loadAverage, openDescriptors, sampleProcess, slopePerMinute, type ProcessSample } from '../harness/samplers';
import { startHarnessStack, type HarnessStack } from '../harness/stack';

const MiB = 1024 * 1024;
const BIG_FILE = 256 * MiB;

export interface SoakOptions {
  seed: number;
  seconds: number;
  /** Clients at once. */
  concurrency: number;
  sampleEveryMs: number;
}

type Task = 'range' | 'abort' | 'hls' | 'head' | 'playlist';

export interface SoakReport {
  seed: number;
  seconds: number;
  loadAverage: string;
  tasks: Record<Task, number>;
  /** HTTP requests made through the proxy. */
  requests: number;
  bytesReceived: number;
  /** Body bytes compared with what they must be (hash of the range, or the CDN's own bytes). */
  bytesVerified: number;
  /** Bodies that differed, or statuses that were not the expected ones, with examples. */
  failures: number;
  failureExamples: string[];
  alive: boolean;
  samples: ProcessSample[];
  rssSlopeMBPerMin: number;
  heapSlopeMBPerMin: number;
  /** Descriptors before the load, at most during it, and once it settled. */
  fds: { before: number; max: number; after: number };
}

const HLS_FIXTURES = mediaFixtures.filter((fixture) => fixture.kind === 'hls');
const fixtureEpisode = (name: string) => mediaFixtures.findIndex((fixture) => fixture.name === name) + 1;

/** Ranges of the big file, hashed as they arrive and compared with the hash of those bytes. */
async function rangeTask(stack: HarnessStack, agent: Agent, random: SeededRandom, report: SoakReport): Promise<void> {
  const start = random.int(0, BIG_FILE - 1);
  const end = Math.min(BIG_FILE, start + random.int(1, 4 * MiB));
  const response = await request(stack.entryUrl('big', 1), { dispatcher: agent, headers: { range: `bytes=${start}-${end - 1}` } });
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of response.body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  report.bytesReceived += bytes;
  if (response.statusCode !== 206 || response.headers['content-range'] !== `bytes ${start}-${end - 1}/${BIG_FILE}` || hash.digest('hex') !== hashBigFile(start, end)) {
    throw new Error(`range ${start}-${end - 1}: ${response.statusCode} ${String(response.headers['content-range'])}, ${bytes} bytes that are not the file's`);
  }
  report.bytesVerified += bytes;
}

/** A whole big file, dropped after a random part: the proxy must let go of its upstream. */
async function abortTask(stack: HarnessStack, agent: Agent, random: SeededRandom, report: SoakReport): Promise<void> {
  const keep = random.int(1, 8 * MiB);
  const controller = new AbortController();
  const response = await request(stack.entryUrl('big', 1), { dispatcher: agent, signal: controller.signal });
  let bytes = 0;
  try {
    for await (const chunk of response.body) {
      bytes += (chunk as Buffer).length;
      if (bytes >= keep) controller.abort();
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  report.bytesReceived += bytes;
  if (response.statusCode !== 200) throw new Error(`whole file: ${response.statusCode}`);
}

/** An HLS fixture walked through the proxy and from the CDN in step, every body compared. */
async function hlsTask(stack: HarnessStack, random: SeededRandom, report: SoakReport): Promise<number> {
  const fixture = random.pick(HLS_FIXTURES);
  const { resources } = await walkBoth(stack.entryUrl('fixture', fixtureEpisode(fixture.name)), stack.cdn.issue(fixture.path));
  const wrong = mismatches(resources);
  for (const resource of resources) {
    report.bytesReceived += resource.proxiedBytes;
    if (!resource.playlist && resource.firstDifference === undefined) report.bytesVerified += resource.proxiedBytes;
  }
  if (wrong.length > 0) throw new Error(`${fixture.name}: ${wrong[0]}`);
  return resources.length + 1;
}

async function headTask(stack: HarnessStack, agent: Agent): Promise<void> {
  const response = await request(stack.entryUrl('big', 1), { dispatcher: agent, method: 'HEAD' });
  await response.body.dump();
  if (response.statusCode !== 200 || response.headers['content-length'] !== String(BIG_FILE)) throw new Error(`HEAD: ${response.statusCode} ${String(response.headers['content-length'])}`);
}

async function playlistTask(stack: HarnessStack, agent: Agent, random: SeededRandom, report: SoakReport): Promise<void> {
  const fixture = random.pick(HLS_FIXTURES);
  const response = await request(stack.entryUrl('fixture', fixtureEpisode(fixture.name)), { dispatcher: agent });
  const text = await response.body.text();
  report.bytesReceived += Buffer.byteLength(text);
  if (response.statusCode !== 200 || !text.startsWith('#EXTM3U')) throw new Error(`${fixture.name} playlist: ${response.statusCode} ${text.slice(0, 60)}`);
}

const TASKS: readonly Task[] = ['range', 'range', 'range', 'range', 'abort', 'hls', 'hls', 'head', 'playlist', 'playlist'];

/** One task drawn from `random`; returns the requests it made. */
async function runTask(stack: HarnessStack, agent: Agent, random: SeededRandom, report: SoakReport): Promise<number> {
  const task = random.pick(TASKS);
  report.tasks[task] += 1;
  switch (task) {
    case 'range': await rangeTask(stack, agent, random, report); return 1;
    case 'abort': await abortTask(stack, agent, random, report); return 1;
    case 'hls': return hlsTask(stack, random, report);
    case 'head': await headTask(stack, agent); return 1;
    default: await playlistTask(stack, agent, random, report); return 1;
  }
}

/** Descriptors once the load is over: polled (bounded) until idle upstream sockets were let go. */
async function settledDescriptors(pid: number, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let fds = await openDescriptors(pid);
  while (fds > target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    fds = await openDescriptors(pid);
  }
  return fds;
}

/** Runs the soak and returns its figures. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const stack = await startHarnessStack({
    episodes: (cdn) => [
      ...mediaFixtures.map((fixture, index) => ({ slug: 'fixture', episode: index + 1, url: cdn.issue(fixture.path) })),
      { slug: 'big', episode: 1, url: cdn.issue(`big/${BIG_FILE}.bin`) },
    ],
  });
  const agent = new Agent({ connections: options.concurrency * 2, keepAliveTimeout: 2000 });
  // The playlist walk asks through the global dispatcher: one of the soak's own, closed with the
  // load, so that its idle connections are not counted as the proxy's descriptors.
  const globalDispatcher = getGlobalDispatcher();
  const walkAgent = new Agent({ keepAliveTimeout: 2000 });
  setGlobalDispatcher(walkAgent);
  const report: SoakReport = {
    seed: options.seed, seconds: 0, loadAverage: '', tasks: { range: 0, abort: 0, hls: 0, head: 0, playlist: 0 }, requests: 0, bytesReceived: 0, bytesVerified: 0,
    failures: 0, failureExamples: [], alive: true, samples: [], rssSlopeMBPerMin: Number.NaN, heapSlopeMBPerMin: Number.NaN, fds: { before: 0, max: 0, after: 0 },
  };
  try {
    report.fds.before = await openDescriptors(stack.proxy.pid);
    const sampler = sampleProcess(stack.proxy, options.sampleEveryMs);
    const deadline = performance.now() + options.seconds * 1000;
    const random = new SeededRandom(options.seed);
    const worker = async (index: number) => {
      const own = random.fork(index);
      while (performance.now() < deadline && stack.proxy.alive()) {
        try {
          const made = await runTask(stack, agent, own.fork(report.tasks.range + report.tasks.hls + report.tasks.abort), report);
          report.requests += made;
        } catch (error) {
          report.failures += 1;
          if (report.failureExamples.length < 5) report.failureExamples.push((error as Error).message.slice(0, 300));
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
    report.samples = await sampler.stop();
    report.alive = stack.proxy.alive();
    report.fds.max = Math.max(report.fds.before, ...report.samples.map((sample) => sample.fds));
    await Promise.all([agent.close(), walkAgent.close()]);
    report.fds.after = report.alive ? await settledDescriptors(stack.proxy.pid, report.fds.before + 2, 15_000) : Number.NaN;
    report.rssSlopeMBPerMin = slopePerMinute(report.samples, (sample) => sample.rssMB);
    report.heapSlopeMBPerMin = slopePerMinute(report.samples, (sample) => sample.heapMB);
    report.loadAverage = await loadAverage();
  } finally {
    setGlobalDispatcher(globalDispatcher);
    await Promise.all([agent.close(), walkAgent.close()]).catch(() => undefined);
    await stack.close().catch(() => undefined);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** The figures as text. */
export function formatSoakReport(report: SoakReport): string {
  const first = report.samples[0];
  const last = report.samples.at(-1);
  const maxRss = Math.max(...report.samples.map((sample) => sample.rssMB));
  return [
    `soak (seed ${report.seed}): ${report.requests} requests in ${report.seconds.toFixed(1)} s (load average ${report.loadAverage})`,
    `  tasks: ${Object.entries(report.tasks).map(([task, count]) => `${task} ${count}`).join(', ')}`,
    `  received ${(report.bytesReceived / 1e9).toFixed(3)} GB, verified byte for byte ${(report.bytesVerified / 1e9).toFixed(3)} GB; failures ${report.failures}`,
    ...report.failureExamples.map((example) => `    e.g. ${example}`),
    `  proxy alive at the end: ${report.alive ? 'yes' : 'NO (crashed)'}`,
    `  RSS ${first?.rssMB.toFixed(1)} → ${last?.rssMB.toFixed(1)} MB (max ${maxRss.toFixed(1)}), slope ${report.rssSlopeMBPerMin.toFixed(2)} MB/min; heap ${first?.heapMB.toFixed(1)} → ${last?.heapMB.toFixed(1)} MB, slope ${report.heapSlopeMBPerMin.toFixed(2)} MB/min (${report.samples.length} samples, first 20% left out of the slopes)`,
    `  open descriptors: ${report.fds.before} before, ${report.fds.max} at most, ${report.fds.after} once settled`,
  ].join('\n');
}
