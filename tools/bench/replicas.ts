// Replicas benchmark: resolver calls and the latency a shared Redis store adds, for 1 vs 3 proxy
// replicas. Every setup gets the same workload against a resolver that takes RESOLVER_DELAY_MS
// per call (real resolvers take seconds; a small delay keeps the run short while still making a
// second call visible):
//   - first requests: for each episode, one request per replica (3 in all), sent at once, which
//     is what a burst of viewers behind a load balancer looks like;
//   - cached requests: the same again once every episode is resolved.
// Latency is measured by the client, to the end of a 1 KiB body from a loopback CDN.
//
//   cd /work/main && node --conditions=@strm/source --import tsx tools/bench/replicas.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createLogger, loadConfig, startProxy, type RunningProxy } from '@strm/proxy';
import { signedEntryUrl } from '@strm/signing';
import { request } from 'undici';

const SECRET = 'bench-secret-0123456789';
const BODY = Buffer.alloc(1024, 7);

/** One setup's figures (milliseconds). */
export interface ReplicaBenchRow {
  setup: string;
  replicas: number;
  store: 'memory' | 'redis';
  episodes: number;
  requests: number;
  resolverCalls: number;
  firstP50Ms: number;
  firstP99Ms: number;
  cachedP50Ms: number;
  cachedP99Ms: number;
}

export interface ReplicaBenchOptions {
  /** Episodes per setup. Default 200. */
  episodes?: number;
  /** Time the fake resolver takes per call. Default 20 ms. */
  resolverDelayMs?: number;
  /** Episodes in flight at once. Default 1: latency without queueing behind other episodes. */
  concurrency?: number;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${String(code)}): ${output.slice(-500)}`)));
  });
  child.stdout!.resume();
  return { url: `redis://127.0.0.1:${port}`, child };
}

async function timedGet(url: string): Promise<number> {
  const started = performance.now();
  const response = await request(url);
  await response.body.arrayBuffer();
  if (response.statusCode !== 200) throw new Error(`bench request answered ${response.statusCode}`);
  return performance.now() - started;
}

/** Runs every setup once and returns its figures. Needs `redis-server` on the PATH. */
export async function runReplicaBench(options: ReplicaBenchOptions = {}): Promise<ReplicaBenchRow[]> {
  const episodes = options.episodes ?? 200;
  const delayMs = options.resolverDelayMs ?? 20;
  const concurrency = options.concurrency ?? 1;

  const cdn = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(BODY.length) });
    res.end(BODY);
  });
  const cdnOrigin = await listen(cdn);
  let resolverCalls = 0;
  const resolver = createServer((req, res) => {
    resolverCalls += 1;
    const query = new URL(req.url ?? '/', 'http://resolver').searchParams;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: `${cdnOrigin}/media/${query.get('slug')}/e${query.get('e')}.mp4` }));
    }, delayMs);
  });
  const resolverOrigin = await listen(resolver);
  const redis = await startRedis();

  const setups: Array<{ setup: string; replicas: number; store: 'memory' | 'redis' }> = [
    { setup: '1 replica, in-memory cache', replicas: 1, store: 'memory' },
    { setup: '1 replica, Redis', replicas: 1, store: 'redis' },
    { setup: '3 replicas, in-memory cache each', replicas: 3, store: 'memory' },
    { setup: '3 replicas, shared Redis', replicas: 3, store: 'redis' },
  ];
  const rows: ReplicaBenchRow[] = [];
  try {
    for (const [index, setup] of setups.entries()) {
      const config = loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        STRM_PROXY_SECRET: SECRET,
        STRM_RESOLVER_URL: resolverOrigin,
        STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ...(setup.store === 'redis' ? { STRM_PROXY_REDIS_URL: redis.url } : {}),
      });
      const proxies: RunningProxy[] = [];
      for (let i = 0; i < setup.replicas; i++) {
        let connected!: () => void;
        const up = new Promise<void>((resolve) => {
          connected = resolve;
        });
        // Logs are read only to learn when the replica is connected to Redis.
        const sink = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            if (chunk.toString('utf8').includes('"redis":"up"')) connected();
            callback();
          },
        });
        proxies.push(await startProxy(config, { logger: createLogger('info', sink) }));
        if (setup.store === 'redis') await up;
      }
      // A slug per setup, so that no setup finds another's entries in Redis.
      const entry = (slug: string, replica: number, episode: number) =>
        signedEntryUrl(`${proxies[replica % proxies.length]!.url}/strm/stream`, { site: 'aniworld.to', slug, s: 1, e: episode, lang: 'German Dub' }, SECRET);
      const runEpisodes = async (slug: string, count: number, into: number[]) => {
        let next = 0;
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < count) {
            const episode = next++;
            into.push(...(await Promise.all([0, 1, 2].map((replica) => timedGet(entry(slug, replica, episode))))));
          }
        }));
      };
      // Warm-up (JIT, connection pools), not counted.
      await runEpisodes(`warm-${index}`, 30, []);
      await runEpisodes(`warm-${index}`, 30, []);
      const callsBefore = resolverCalls;
      const first: number[] = [];
      const cached: number[] = [];
      await runEpisodes(`bench-${index}`, episodes, first);
      await runEpisodes(`bench-${index}`, episodes, cached);
      rows.push({
        ...setup,
        episodes,
        requests: first.length + cached.length,
        resolverCalls: resolverCalls - callsBefore,
        firstP50Ms: quantile(first, 0.5),
        firstP99Ms: quantile(first, 0.99),
        cachedP50Ms: quantile(cached, 0.5),
        cachedP99Ms: quantile(cached, 0.99),
      });
      await Promise.all(proxies.map((proxy) => proxy.close(100)));
    }
  } finally {
    cdn.closeAllConnections();
    resolver.closeAllConnections();
    cdn.close();
    resolver.close();
    redis.child.kill('SIGTERM');
    await once(redis.child, 'exit');
  }
  return rows;
}

/** The figures as a text table. */
export function formatReplicaBench(rows: readonly ReplicaBenchRow[], resolverDelayMs = 20): string {
  const header = ['setup', 'episodes', 'requests', 'resolver calls', 'first p50 ms', 'first p99 ms', 'cached p50 ms', 'cached p99 ms'];
  const body = rows.map((row) => [
    row.setup,
    String(row.episodes),
    String(row.requests),
    String(row.resolverCalls),
    row.firstP50Ms.toFixed(1),
    row.firstP99Ms.toFixed(1),
    row.cachedP50Ms.toFixed(2),
    row.cachedP99Ms.toFixed(2),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [
    `resolver delay ${resolverDelayMs} ms; per episode 3 first requests at once (one per replica), then 3 cached`,
    line(header),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...body.map(line),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runReplicaBench();
  console.log(formatReplicaBench(rows));
}
