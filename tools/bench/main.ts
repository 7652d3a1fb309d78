// `pnpm bench`: the proxy against its references, all started in this run (see README.md).
//   pnpm bench [--quick] [--only stream,segments,ttfb,memory,rewrite,dash] [--no-nginx] [--profile] [--replicas]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runDashRewriteBench, type DashRewriteBenchRow } from './dash-rewrite';
import { runHlsRewriteBench, type HlsRewriteBenchRow } from './hls-rewrite';
import { runMemory, type MemoryRow } from './memory';
import { benchDir, root } from './processes';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile';
import type { ReplicaBenchRow } from './replicas';
import { runSegments, type SegmentRow } from './segments';
import { runSingleStream, type StreamRow } from './single-stream';
import { startStack } from './stack';
import { fixed, ratio, textTable } from './stats';
import { coldEpisodesNeeded, runTtfb, type TtfbSummary } from './ttfb';

const SECTIONS = ['stream', 'segments', 'ttfb', 'memory', 'rewrite', 'dash'] as const;
type Section = (typeof SECTIONS)[number];
const MiB = 1024 * 1024;

const HELP = `pnpm bench [options]: the proxy against direct, a bare Node pipe and nginx, in one run

  --quick            smaller file, fewer and shorter rounds (about a minute)
  --only LIST        sections to run, comma-separated: ${SECTIONS.join(', ')}
  --no-nginx         skip the nginx reference
  --profile          run the proxy under node --cpu-prof and print where its time went
  --replicas         also run the replicas benchmark (1 vs 3 replicas, memory vs Redis; needs redis-server)
  --help
`;

function plan(quick: boolean) {
  return quick
    ? {
        movieBytes: 64 * MiB,
        stream: { rounds: 3 },
        segments: { rounds: 2, seconds: 2, connections: 64 },
        ttfb: { rounds: 2, samples: 60, warmup: 20 },
        memory: { clients: 100, seconds: 4 },
        rewrite: [10_000],
        dash: [10_000, 100_000],
      }
    : {
        movieBytes: 256 * MiB,
        stream: { rounds: 7 },
        segments: { rounds: 5, seconds: 3, connections: 64 },
        ttfb: { rounds: 3, samples: 150, warmup: 30 },
        memory: { clients: 100, seconds: 10 },
        rewrite: [10_000, 100_000],
        // The last size is the 50 MB manifest (about 92 bytes per SegmentURL): streaming methods only.
        dash: [10_000, 100_000, 550_000],
      };
}

interface Targets {
  name: string;
  value: string;
  target: string;
  met: boolean | undefined;
}

function targetsOf(results: { stream?: StreamRow[]; segments?: SegmentRow[]; ttfb?: TtfbSummary; memory?: MemoryRow[] }): Targets[] {
  const targets: Targets[] = [];
  const row = <T extends { variant: string }>(rows: T[] | undefined, variant: string) => rows?.find((r) => r.variant === variant);
  const bare = row(results.stream, 'bare pipe');
  for (const variant of ['proxy /strm/stream', 'proxy /strm/proxy']) {
    const proxy = row(results.stream, variant);
    if (bare && proxy) {
      const speed = proxy.mbPerSecond / bare.mbPerSecond;
      targets.push({ name: `single stream MB/s, ${variant} / bare pipe`, value: speed.toFixed(2), target: '>= 0.90', met: speed >= 0.9 });
      if (proxy.cpuSecondsPerGiB !== undefined && bare.cpuSecondsPerGiB !== undefined) {
        const cpu = proxy.cpuSecondsPerGiB / bare.cpuSecondsPerGiB;
        targets.push({ name: `single stream CPU/GiB, ${variant} / bare pipe`, value: cpu.toFixed(2), target: '<= 1.15', met: cpu <= 1.15 });
      }
    }
  }
  const segBare = row(results.segments, 'bare pipe');
  const segProxy = row(results.segments, 'proxy /strm/proxy');
  if (segBare && segProxy) {
    const rps = segProxy.requestsPerSecond / segBare.requestsPerSecond;
    targets.push({ name: 'segments req/s, proxy / bare pipe', value: rps.toFixed(2), target: '>= 0.80', met: rps >= 0.8 });
  }
  if (results.ttfb) {
    const { cached } = results.ttfb.added;
    targets.push({ name: 'added TTFB (cached) p50', value: `${cached.p50Ms.toFixed(2)} ms`, target: '< 1 ms', met: cached.p50Ms < 1 });
    targets.push({ name: 'added TTFB (cached) p99', value: `${cached.p99Ms.toFixed(2)} ms`, target: '< 5 ms', met: cached.p99Ms < 5 });
  }
  const mem = row(results.memory, 'proxy /strm/stream');
  if (mem) targets.push({ name: 'proxy RSS, 100 slow clients', value: `${mem.peakMiB.toFixed(0)} MiB`, target: '< 150 MB', met: mem.peakMiB * MiB < 150e6 });
  return targets;
}

function machine() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 1024 ** 3), kernel: release(), node: process.version, commit };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-nginx': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      replicas: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const only = values.only === undefined ? [...SECTIONS] : values.only.split(',').map((s) => s.trim());
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new TypeError(`--only: unknown section ${unknown.join(', ')}; expected some of ${SECTIONS.join(', ')}`);
  const sections = new Set(only as Section[]);
  const settings = plan(values.quick);
  const info = { date: new Date().toISOString(), machine: machine(), quick: values.quick, sections: [...sections], settings, loadAverageAtStart: loadavg() };
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  log(`${info.machine.cores} x ${info.machine.cpu}, Node ${info.machine.node}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const results: {
    stream?: StreamRow[];
    segments?: SegmentRow[];
    ttfb?: TtfbSummary;
    memory?: MemoryRow[];
    rewrite?: HlsRewriteBenchRow[];
    dash?: DashRewriteBenchRow[];
    replicas?: ReplicaBenchRow[];
    profile?: ProfileSummary;
  } = {};
  const tables: Partial<Record<Section, string[]>> = {};
  const needsStack = ['stream', 'segments', 'ttfb', 'memory'].some((s) => sections.has(s as Section));
  const profileDir = values.profile ? await mkdtemp(join(tmpdir(), 'strm-bench-profile-')) : undefined;

  if (needsStack) {
    log('starting the origin, the proxy and the references...');
    const stack = await startStack({
      movieBytes: settings.movieBytes,
      segmentBytes: MiB,
      coldEpisodes: sections.has('ttfb') ? coldEpisodesNeeded(settings.ttfb) : 0,
      nginx: !values['no-nginx'] && (sections.has('stream') || sections.has('segments')),
      ...(profileDir ? { profileDir } : {}),
    });
    try {
      if (stack.nginxNote) log(stack.nginxNote);
      // Memory first, on fresh processes: afterwards the heaps keep what the 64-client segment load grew them to.
      if (sections.has('memory')) {
        const m = settings.memory;
        log(`memory: ${m.clients} clients reading 1 MB/s for ${m.seconds} s...`);
        const rows = (results.memory = await runMemory(stack, m));
        tables.memory = [
          `memory, ${m.clients} clients reading 1 MB/s each for ${m.seconds} s (fresh processes)`,
          textTable([
            ['process', 'idle RSS MiB', 'peak RSS MiB', 'clients served', 'clients read MB/s'],
            ...rows.map((r) => [r.variant, fixed(r.idleMiB, 0), fixed(r.peakMiB, 0), `${r.served}/${m.clients}`, fixed(r.readMBPerSecond, 0)]),
          ]),
          '',
        ];
      }
      if (sections.has('ttfb')) {
        const t = settings.ttfb;
        log(`time to first byte: ${t.rounds} rounds of ${t.samples} requests per kind...`);
        const summary = (results.ttfb = await runTtfb(stack, t));
        tables.ttfb = [
          `time to first byte, 1-byte Range request (${t.samples} requests per kind per round, median of ${t.rounds} rounds)`,
          textTable([
            ['kind', 'p50 ms', 'p99 ms'],
            ...Object.entries(summary.kinds).map(([kind, v]) => [kind, fixed(v.p50Ms, 2), fixed(v.p99Ms, 2)]),
            ['added by the bare pipe (the least a hop costs)', fixed(summary.added.barePipe.p50Ms, 2), fixed(summary.added.barePipe.p99Ms, 2)],
            ['added by the proxy, cached', fixed(summary.added.cached.p50Ms, 2), fixed(summary.added.cached.p99Ms, 2)],
            ['added by the proxy, token', fixed(summary.added.token.p50Ms, 2), fixed(summary.added.token.p99Ms, 2)],
            ['added by the proxy, cold (resolver subtracted)', fixed(summary.added.cold.p50Ms, 2), fixed(summary.added.cold.p99Ms, 2)],
          ]),
          '',
        ];
      }
      if (sections.has('stream')) {
        log(`single stream: ${settings.movieBytes / MiB} MiB, ${settings.stream.rounds} rounds...`);
        const rows = (results.stream = await runSingleStream(stack, { rounds: settings.stream.rounds, movieBytes: settings.movieBytes }));
        const bare = rows.find((r) => r.variant === 'bare pipe');
        tables.stream = [
          `single stream, ${settings.movieBytes / MiB} MiB file (median of ${settings.stream.rounds} interleaved rounds)`,
          textTable([
            ['route', 'MB/s', 'x bare', 'CPU s/GiB', 'x bare'],
            ...rows.map((r) => [r.variant, fixed(r.mbPerSecond, 0), ratio(r.mbPerSecond, bare?.mbPerSecond), fixed(r.cpuSecondsPerGiB, 2), ratio(r.cpuSecondsPerGiB, bare?.cpuSecondsPerGiB)]),
          ]),
          '',
        ];
      }
      if (sections.has('segments')) {
        const s = settings.segments;
        log(`segments: 1 MiB, ${s.connections} connections, ${s.rounds} rounds of ${s.seconds} s...`);
        const rows = (results.segments = await runSegments(stack, { ...s, segmentBytes: MiB }));
        const bare = rows.find((r) => r.variant === 'bare pipe');
        tables.segments = [
          `HLS segments, 1 MiB, ${s.connections} concurrent clients (median of ${s.rounds} interleaved rounds of ${s.seconds} s)`,
          textTable([
            ['route', 'req/s', 'x bare', 'p50 ms', 'p99 ms'],
            ...rows.map((r) => [r.variant, fixed(r.requestsPerSecond, 0), ratio(r.requestsPerSecond, bare?.requestsPerSecond), fixed(r.p50Ms, 1), fixed(r.p99Ms, 1)]),
          ]),
          '',
        ];
      }
    } finally {
      await stack.stop();
    }
  }

  if (sections.has('rewrite')) {
    log(`playlist rewrite: ${settings.rewrite.join(', ')} segments...`);
    const { rows, table } = await runHlsRewriteBench(settings.rewrite);
    results.rewrite = rows;
    tables.rewrite = ['playlist rewrite (@strm/hls-rewrite vs hls-parser parse + stringify)', table, ''];
  }

  if (sections.has('dash')) {
    log(`MPD rewrite: ${settings.dash.join(', ')} SegmentURLs...`);
    const { rows, table } = await runDashRewriteBench(settings.dash);
    results.dash = rows;
    tables.dash = ['MPD rewrite (@strm/dash-rewrite vs saxes and htmlparser2 parsing only; the largest manifest streamed only)', table, ''];
  }

  const output = SECTIONS.flatMap((section) => tables[section] ?? []);
  if (values.replicas) {
    log('replicas: 1 vs 3 proxies, in-memory vs Redis store...');
    try {
      // Loaded only when asked for: it runs proxies in this process.
      const { formatReplicaBench, runReplicaBench } = await import('./replicas');
      results.replicas = await runReplicaBench();
      output.push('replicas (resolver calls and latency, 1 vs 3 replicas)', formatReplicaBench(results.replicas), '');
    } catch (error) {
      output.push(`replicas: not measured (${(error as Error).message.split('\n')[0]}); it needs redis-server on the PATH`, '');
    }
  }
  const targets = targetsOf(results);
  if (targets.length > 0) {
    output.push(
      'targets (ratios measured in this run)',
      textTable([['figure', 'value', 'target', 'met'], ...targets.map((t) => [t.name, t.value, t.target, t.met === undefined ? '?' : t.met ? 'yes' : 'NO'])]),
      '',
    );
  }
  if (profileDir) {
    const profiles = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
    if (profiles.length > 0) {
      results.profile = await summariseProfile(join(profileDir, profiles[0]!));
      output.push(formatProfile(results.profile), `(profile kept in ${join(profileDir, profiles[0]!)}; never commit it)`, '');
    }
  }

  const loadAtEnd = loadavg();
  output.push(`${info.machine.cores} x ${info.machine.cpu}, Node ${info.machine.node}, commit ${info.machine.commit}, load average at start ${info.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')}, at end ${loadAtEnd.map((l) => l.toFixed(1)).join(' ')}`);
  process.stdout.write(`\n${output.join('\n')}\n`);

  const resultsDir = join(benchDir, 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${info.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ ...info, loadAverageAtEnd: loadAtEnd, results, targets }, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
