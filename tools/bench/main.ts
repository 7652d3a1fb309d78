// `pnpm bench`: the proxy against its references, all started in this run (see README.md).
//   pnpm bench [--quick] [--only stream,segments,ttfb,memory,rewrite,dash] [--no-nginx] [--origin nginx|node] [--profile] [--baseline DIR] [--byte-paths] [--replicas]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runDashRewriteBench, type DashRewriteBenchRow } from './dash-rewrite';
import { runHlsRewriteBench, type HlsRewriteBenchRow } from './hls-rewrite';
import { idleRatio, measureIdle, runMemory, type IdleRow, type MemoryRow } from './memory';
import { benchDir, root } from './processes';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile';
import type { ReplicaBenchRow } from './replicas';
import { runSegments, type SegmentRow } from './segments';
import { runSingleStream, type StreamRow } from './single-stream';
import { startStack } from './stack';
import { idleLine, memoryTable, segmentTables, streamTable, ttfbTable } from './report';
import { ratioSpread, textTable } from './stats';
import { coldEpisodesNeeded, runTtfb, type TtfbSummary } from './ttfb';

const SECTIONS = ['stream', 'segments', 'ttfb', 'memory', 'rewrite', 'dash'] as const;
type Section = (typeof SECTIONS)[number];
const MiB = 1024 * 1024;

const HELP = `pnpm bench [options]: the proxy against direct, a bare Node pipe and nginx, in one run

  --quick            smaller file, fewer and shorter rounds (about a minute)
  --only LIST        sections to run, comma-separated: ${SECTIONS.join(', ')}
  --no-nginx         skip the nginx proxy_pass reference
  --origin KIND      what serves the media: nginx (static files, sendfile; the default when nginx
                     is installed) or node (the fake CDN of @strm/e2e; the fallback without nginx)
  --profile          run the proxy under node --cpu-prof and print where its time went
  --baseline DIR     also run the proxy of another checkout (a git worktree), built the same way, as
                     "baseline" rows: a before/after in one run
  --byte-paths       also stream through two minimal byte paths (tools/bench/byte-paths.ts: a net
                     upstream read into reused buffers, undici's dispatch): what a new byte path
                     could gain, in the single stream table
  --rounds N         interleaved rounds of the stream, segments and time-to-first-byte sections
                     (default 12, 5 and 3; more rounds resolve smaller differences, e.g. a before/after).
                     Without --quick, the stream and segments sections round N up to whole periods
                     of their route orders (the number of routes if even, twice it if odd), so that
                     every route runs right after every other one equally often: 5 routes, 5 asked,
                     10 run
  --replicas         also run the replicas benchmark (1 vs 3 replicas, memory vs Redis; needs redis-server)
  --help
`;

function plan(quick: boolean) {
  return quick
    ? {
        movieBytes: 64 * MiB,
        // Quick rounds are not balanced: a whole period of five routes is ten rounds.
        stream: { rounds: 3, balanced: false },
        segments: { rounds: 2, balanced: false, seconds: 2, connections: [64, 512], warmupSeconds: 3 },
        ttfb: { rounds: 2, samples: 60, warmup: 20 },
        memory: { clients: [100, 1000], seconds: 4 },
        rewrite: [10_000],
        dash: [10_000, 100_000],
      }
    : {
        movieBytes: 256 * MiB,
        stream: { rounds: 12, balanced: true },
        segments: { rounds: 5, balanced: true, seconds: 3, connections: [64, 512], warmupSeconds: 10 },
        ttfb: { rounds: 3, samples: 150, warmup: 30 },
        memory: { clients: [100, 1000], seconds: 10 },
        rewrite: [10_000, 100_000],
        // The last size is the 50 MB manifest (about 92 bytes per SegmentURL): streaming methods only.
        dash: [10_000, 100_000, 550_000],
      };
}

/** The plan with `--rounds` for every section measured in rounds. */
function withRounds(settings: ReturnType<typeof plan>, rounds: string | undefined): ReturnType<typeof plan> {
  if (rounds === undefined) return settings;
  const count = Number(rounds);
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new UsageError(`--rounds: expected a whole number from 1 to 100, received ${JSON.stringify(rounds)}`);
  return { ...settings, stream: { ...settings.stream, rounds: count }, segments: { ...settings.segments, rounds: count }, ttfb: { ...settings.ttfb, rounds: count } };
}

/** The rounds a section ran (its routes run as many each), for the results file; undefined when it did not run. */
const roundsRun = (rows: readonly { rounds: readonly unknown[] }[] | undefined) => (rows === undefined || rows.length === 0 ? undefined : Math.max(...rows.map((row) => row.rounds.length)));

const roundsText = (section: { rounds: number; balanced: boolean }) => (section.balanced ? `at least ${section.rounds} rounds (whole periods of the route orders)` : `${section.rounds} rounds`);

/** A bad command line: printed as a sentence, without a stack. */
class UsageError extends Error {
  override name = 'UsageError';
}

interface Targets {
  name: string;
  value: string;
  target: string;
  met: boolean | undefined;
}

/** The targets, each a ratio measured in this run (medians of the per-round ratios). */
function targetsOf(results: { stream?: StreamRow[]; segments?: SegmentRow[]; ttfb?: TtfbSummary; idle?: IdleRow; memory?: MemoryRow[] }): Targets[] {
  const targets: Targets[] = [];
  const add = (name: string, value: number | undefined, target: string, met: (v: number) => boolean, unit = '') => {
    if (value !== undefined && Number.isFinite(value)) targets.push({ name, value: `${value.toFixed(2)}${unit}`, target, met: met(value) });
  };
  const per = <R extends { rounds: unknown[] }>(a: R | undefined, b: R | undefined, pick: (round: R['rounds'][number]) => number | undefined) =>
    a && b ? ratioSpread(a.rounds.map(pick), b.rounds.map(pick))?.median : undefined;
  const stream = (variant: string) => results.stream?.find((r) => r.variant === variant);
  const [direct, relay, bare, nginx] = [stream('direct'), stream('tcp relay'), stream('bare pipe'), stream('nginx')];
  add('client ceiling: direct / nginx MB/s', per(direct, nginx, (r) => r.mbPerSecond), '>= 1.50', (v) => v >= 1.5);
  for (const variant of ['proxy /strm/stream', 'proxy /strm/proxy']) {
    const proxy = stream(variant);
    add(`single stream MB/s, ${variant} / tcp relay`, per(proxy, relay, (r) => r.mbPerSecond), '>= 0.85', (v) => v >= 0.85);
    add(`single stream CPU/GiB, ${variant} / tcp relay`, per(proxy, relay, (r) => r.cpuSecondsPerGiB), '<= 1.25', (v) => v <= 1.25);
    add(`single stream MB/s, ${variant} / bare pipe`, per(proxy, bare, (r) => r.mbPerSecond), '>= 1.00', (v) => v >= 1);
  }
  for (const connections of new Set(results.segments?.map((r) => r.connections))) {
    const segment = (variant: string) => results.segments?.find((r) => r.variant === variant && r.connections === connections);
    const [proxy, segBare] = [segment('proxy /strm/proxy'), segment('bare pipe')];
    add(`segments req/s at ${connections}, proxy / bare pipe`, per(proxy, segBare, (r) => r.requestsPerSecond), '>= 1.00', (v) => v >= 1);
    add(`segments p99 at ${connections}, proxy / bare pipe`, per(proxy, segBare, (r) => r.p99Ms), '<= 1.20', (v) => v <= 1.2);
  }
  if (results.ttfb) {
    const { cached } = results.ttfb.added;
    add('added TTFB (cached) p50', cached.p50Ms, '< 1 ms', (v) => v < 1, ' ms');
    add('added TTFB (cached) p99', cached.p99Ms, '< 5 ms', (v) => v < 5, ' ms');
  }
  if (results.idle) add('idle RSS, proxy / bare pipe (medians)', idleRatio(results.idle), '<= 1.20', (v) => v <= 1.2);
  for (const row of results.memory?.filter((r) => r.variant === 'proxy /strm/stream') ?? []) {
    const memBare = results.memory?.find((r) => r.variant === 'bare pipe' && r.clients === row.clients);
    if (memBare) add(`RSS with ${row.clients} slow clients, proxy / bare pipe`, row.peakMiB / memBare.peakMiB, '<= 1.20', (v) => v <= 1.2);
    targets.push({ name: `slow clients served by the proxy, of ${row.clients}`, value: String(row.served), target: `= ${row.clients}`, met: row.served === row.clients });
  }
  return targets;
}

/** The commit measured; the bench builds the working tree, so uncommitted changes to tracked files are named too. */
function commitOf(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return changed ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown'; // not a git checkout
  }
}

function machine() {
  const commit = commitOf();
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 1024 ** 3), kernel: release(), node: process.version, commit };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-nginx': { type: 'boolean', default: false },
      origin: { type: 'string' },
      profile: { type: 'boolean', default: false },
      replicas: { type: 'boolean', default: false },
      baseline: { type: 'string' },
      'byte-paths': { type: 'boolean', default: false },
      rounds: { type: 'string' },
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
  if (unknown.length > 0) throw new UsageError(`--only: unknown section ${unknown.join(', ')}; expected some of ${SECTIONS.join(', ')}`);
  const sections = new Set(only as Section[]);
  if (values['byte-paths'] && !sections.has('stream')) throw new UsageError('--byte-paths adds rows to the single stream section: add stream to --only');
  const origin = values.origin;
  if (origin !== undefined && origin !== 'nginx' && origin !== 'node') throw new UsageError(`--origin: expected nginx or node, received ${JSON.stringify(origin)}`);
  const settings = withRounds(plan(values.quick), values.rounds);
  const info = { date: new Date().toISOString(), machine: machine(), quick: values.quick, sections: [...sections], settings, loadAverageAtStart: loadavg() };
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  log(`${info.machine.cores} x ${info.machine.cpu}, Node ${info.machine.node}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const results: {
    stream?: StreamRow[];
    segments?: SegmentRow[];
    ttfb?: TtfbSummary;
    idle?: IdleRow;
    memory?: MemoryRow[];
    rewrite?: HlsRewriteBenchRow[];
    dash?: DashRewriteBenchRow[];
    replicas?: ReplicaBenchRow[];
    profile?: ProfileSummary;
  } = {};
  const tables: Partial<Record<Section, string[]>> = {};
  let originNote: string | undefined;
  const needsStack = ['stream', 'segments', 'ttfb', 'memory'].some((s) => sections.has(s as Section));
  const profileDir = values.profile ? await mkdtemp(join(tmpdir(), 'strm-bench-profile-')) : undefined;

  if (needsStack) {
    log('starting the origin, the proxy and the references...');
    const stack = await startStack({
      movieBytes: settings.movieBytes,
      segmentBytes: MiB,
      coldEpisodes: sections.has('ttfb') ? coldEpisodesNeeded(settings.ttfb) : 0,
      nginx: !values['no-nginx'] && (sections.has('stream') || sections.has('segments')),
      origin,
      ...(profileDir ? { profileDir } : {}),
      ...(values.baseline !== undefined ? { baseline: resolve(values.baseline) } : {}),
      bytePaths: values['byte-paths'],
    });
    try {
      log(stack.originNote);
      originNote = stack.originNote;
      if (stack.nginxNote) log(stack.nginxNote);
      // Memory first, on fresh processes: afterwards the heaps keep what the segment loads grew them to.
      if (sections.has('memory')) {
        const m = settings.memory;
        log('memory: idle RSS of 3 fresh proxies and 3 fresh bare pipes, once up for 45 s...');
        const idle = (results.idle = await measureIdle(stack));
        log(`memory: ${m.clients.join(', ')} slow clients for ${m.seconds} s each...`);
        tables.memory = [idleLine(idle), ...memoryTable((results.memory = await runMemory(stack, m)), m.seconds)];
      }
      if (sections.has('ttfb')) {
        const t = settings.ttfb;
        log(`time to first byte: ${t.rounds} rounds of ${t.samples} requests per kind...`);
        tables.ttfb = ttfbTable((results.ttfb = await runTtfb(stack, t)), t);
      }
      if (sections.has('stream')) {
        log(`single stream: ${settings.movieBytes / MiB} MiB, ${roundsText(settings.stream)}...`);
        const rows = (results.stream = await runSingleStream(stack, { ...settings.stream, movieBytes: settings.movieBytes }));
        tables.stream = streamTable(rows, settings.movieBytes);
      }
      if (sections.has('segments')) {
        const s = settings.segments;
        log(`segments: 1 MiB, ${s.connections.join(' and ')} connections, ${roundsText(s)} of ${s.seconds} s...`);
        tables.segments = segmentTables((results.segments = await runSegments(stack, { ...s, segmentBytes: MiB })), s);
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

  const output = [...(originNote ? [originNote, ''] : []), ...SECTIONS.flatMap((section) => tables[section] ?? [])];
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
  // `rounds` in the plan is what was asked; the balanced sections ran whole periods of it.
  const ran = { stream: { ...info.settings.stream, roundsRun: roundsRun(results.stream) }, segments: { ...info.settings.segments, roundsRun: roundsRun(results.segments) } };
  const saved = { ...info, settings: { ...info.settings, ...ran }, origin: originNote, loadAverageAtEnd: loadAtEnd, results, targets };
  await writeFile(file, `${JSON.stringify(saved, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
}

main().catch((error: unknown) => {
  // A bad option is a sentence (parseArgs's own refusals too); anything else keeps its stack for
  // whoever debugs the bench.
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_') === true;
  console.error(usage ? `bench: ${(error as Error).message}` : error);
  process.exitCode = 1;
});
