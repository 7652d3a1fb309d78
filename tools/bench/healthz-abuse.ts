// How long `/healthz` waits while the proxy rewrites hostile and large playlists. The proxy runs
// as a process of its own (from its sources); an origin and a resolver in this process serve it
// a playlist of each kind; attackers fetch them through the proxy in a loop while one probe asks
// `/healthz` back to back. It prints the probe's latency percentiles and what the attackers got.
//
//   node --conditions=@strm/source --import tsx tools/bench/healthz-abuse.ts [--seconds 10] [--attackers 2] [--proxy <cli.ts>]
//
// `--proxy` runs another checkout's proxy (e.g. an older commit's `apps/proxy/src/cli.ts`, with
// the workspace's node_modules linked in), to compare before and after on the same machine load.
// Loopback only; the run is bounded in time and every request has a timeout.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { signedEntryUrl } from '@strm/signing';
import { Agent, request } from 'undici';
import { root, startNodeServer } from './processes';
import { proxyReadyLine } from './stack';
import { quantile } from './stats';

const SECRET = 'strm-healthz-abuse-secret-0123456789';
const MiB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 120_000;

/** The playlists the attackers ask for, by episode number: each a known way to make a proxy work. */
const PLAYLISTS: Record<number, { name: string; body: () => string }> = {
  1: {
    // A 1 MiB variable referenced 16 times on one URI line (the reported case used 256).
    name: 'define x16',
    body: () => `#EXTM3U\n#EXT-X-DEFINE:NAME="v",VALUE="${'a'.repeat(MiB - 64)}"\n#EXTINF:4,\n${'{$v}'.repeat(16)}\n#EXT-X-ENDLIST\n`,
  },
  2: {
    // 200,000 one-character URIs (the reported case used a million).
    name: '200k tiny URIs',
    body: () => `#EXTM3U\n${'a\n'.repeat(200_000)}`,
  },
  3: {
    // A legitimate VOD playlist of 20,000 segments.
    name: '20k segments',
    body: () => {
      const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:4', '#EXT-X-PLAYLIST-TYPE:VOD'];
      for (let i = 0; i < 20_000; i++) lines.push('#EXTINF:4.000,', `segment-${String(i).padStart(5, '0')}.ts`);
      lines.push('#EXT-X-ENDLIST', '');
      return lines.join('\n');
    },
  },
};

function startOrigin(): Promise<{ url: string; close: () => void }> {
  const bodies = new Map(Object.entries(PLAYLISTS).map(([episode, playlist]) => [Number(episode), Buffer.from(playlist.body())]));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/resolve') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: `${base}/playlist/${url.searchParams.get('e')}/index.m3u8` }));
      return;
    }
    const body = bodies.get(Number(/^\/playlist\/(\d+)\//.exec(url.pathname)?.[1]));
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': String(body.length) });
    res.end(body);
  });
  // Node's default (5 s) destroys a socket whose response still waits in its buffer once the
  // reader has been slow for that long: a CDN waits longer (nginx's send_timeout is 60 s).
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() });
    });
  });
}

/**
 * An idle Node process that measures its own event-loop delay: on a loaded machine a loop that
 * does nothing is late too (the process waits for a CPU), and that part is not the proxy's.
 */
const IDLE_CONTROL = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
process.stdin.once('data', () => {
  process.stdout.write(JSON.stringify({ p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 }));
  process.exit(0);
});
process.stdin.once('end', () => process.exit(0));`;

function startIdleControl(): { stop: () => Promise<{ p99: number; max: number }> } {
  const child = spawn(process.execPath, ['-e', IDLE_CONTROL], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  return {
    async stop() {
      child.stdin.write('x');
      await once(child, 'exit');
      return JSON.parse(output) as { p99: number; max: number };
    },
  };
}

interface AttackResult {
  name: string;
  status: number;
  code: string | undefined;
  bytes: number;
  ms: number;
}

async function attack(agent: Agent, url: string, name: string): Promise<AttackResult> {
  const started = performance.now();
  try {
    const response = await request(url, { dispatcher: agent, bodyTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS });
    const body = Buffer.from(await response.body.arrayBuffer());
    const code = response.statusCode === 200 ? undefined : (JSON.parse(body.toString('utf8')) as { error?: { code?: string } }).error?.code;
    return { name, status: response.statusCode, code, bytes: body.length, ms: performance.now() - started };
  } catch (error) {
    return { name, status: 0, code: (error as Error).message, bytes: 0, ms: performance.now() - started };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      attackers: { type: 'string', default: '2' },
      proxy: { type: 'string', default: join(root, 'apps/proxy/src/cli.ts') },
    },
  });
  const seconds = Number(values.seconds);
  const attackers = Number(values.attackers);
  const origin = await startOrigin();
  const proxy = await startNodeServer('proxy', relative(root, values.proxy), {
    args: ['serve'],
    env: {
      STRM_PROXY_SECRET: SECRET,
      STRM_RESOLVER_URL: origin.url,
      STRM_PROXY_UPSTREAM_ALLOWLIST: '127.0.0.1',
      STRM_PROXY_UPSTREAM_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    ready: proxyReadyLine,
  });
  const entry = (episode: number) => signedEntryUrl(`${proxy.url}/strm/stream`, { site: 'aniworld.to', slug: 'abuse', s: 1, e: episode, lang: 'German Dub' }, SECRET);
  const control = startIdleControl();
  const agent = new Agent({ connections: attackers + 1 });
  const probeAgent = new Agent({ connections: 1 });
  const deadline = performance.now() + seconds * 1000;
  const results: AttackResult[] = [];
  const rss: number[] = [];
  const episodes = Object.keys(PLAYLISTS).map(Number);
  try {
    // Warm the resolution cache and the code paths once, then measure.
    await request(`${proxy.url}/healthz`, { dispatcher: probeAgent }).then((response) => response.body.dump());
    const attackerLoops = Array.from({ length: attackers }, async (_, attacker) => {
      for (let round = attacker; performance.now() < deadline; round++) {
        const episode = episodes[round % episodes.length]!;
        results.push(await attack(agent, entry(episode), PLAYLISTS[episode]!.name));
      }
    });
    const latencies: number[] = [];
    while (performance.now() < deadline) {
      const started = performance.now();
      const response = await request(`${proxy.url}/healthz`, { dispatcher: probeAgent, headersTimeout: REQUEST_TIMEOUT_MS });
      await response.body.dump();
      latencies.push(performance.now() - started);
      rss.push(proxy.rssBytes());
    }
    await Promise.all(attackerLoops);
    latencies.sort((a, b) => a - b);
    const show = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(values.proxy);
    console.log(`/healthz while ${attackers} attackers fetched ${results.length} playlists for ${seconds} s:`);
    console.log(`  ${latencies.length} probes, p50 ${show(quantile(latencies, 0.5))}, p99 ${show(quantile(latencies, 0.99))}, max ${show(latencies.at(-1)!)}`);
    console.log(`  proxy RSS: max ${(Math.max(...rss) / MiB).toFixed(0)} MiB`);
    // The proxy's own event-loop delay since it started (prom-client's monitorEventLoopDelay):
    // what its loop was held, apart from how long the probe waited for a CPU on a loaded machine.
    const metrics = await (await request(`${proxy.url}/metrics`, { dispatcher: probeAgent })).body.text();
    const lag = (name: string) => Number(new RegExp(`^strm_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(metrics)?.[1]) * 1000;
    console.log(`  proxy event-loop delay: p99 ${show(lag('p99'))}, max ${show(lag('max'))}`);
    const idle = await control.stop();
    console.log(`  an idle Node process's event-loop delay meanwhile (the machine's share): p99 ${show(idle.p99)}, max ${show(idle.max)}`);
    for (const name of Object.values(PLAYLISTS).map((playlist) => playlist.name)) {
      const mine = results.filter((result) => result.name === name);
      const outcomes = [...new Set(mine.map((result) => (result.status === 200 ? '200' : `${result.status} ${result.code}`)))];
      const slowest = Math.max(0, ...mine.map((result) => result.ms));
      const largest = Math.max(0, ...mine.map((result) => result.bytes));
      console.log(`  ${name}: ${mine.length} answers (${outcomes.join(', ')}), slowest ${show(slowest)}, largest body ${(largest / MiB).toFixed(1)} MiB`);
    }
  } finally {
    await agent.close();
    await probeAgent.close();
    await proxy.stop();
    origin.close();
  }
}

await main();
