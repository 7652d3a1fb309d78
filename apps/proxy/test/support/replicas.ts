import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startServer, type TestServer } from './servers';

export interface ControlledResolver extends TestServer {
  /** Resolver calls per slug, and how many had refresh=1. */
  calls: Map<string, { total: number; refreshes: number }>;
  total(slug: string): number;
  /** Resolves once `count` calls for `slug` have arrived (answered or not). */
  arrived(slug: string, count: number): Promise<void>;
  /** Holds the answer to the next call for `slug` until the returned function is called. */
  holdNext(slug: string): () => void;
}

/**
 * A resolver speaking the resolver contract (docs/contract.md, "Resolver") over real HTTP, counting its calls per slug, whose answers for a
 * slug can be held open (a slow resolver, or one whose caller dies mid-call).
 */
export async function startControlledResolver(url: (slug: string, call: { count: number; refresh: boolean }) => string): Promise<ControlledResolver> {
  const calls = new Map<string, { total: number; refreshes: number }>();
  const held = new Map<string, Promise<void>>();
  const waiters: Array<{ slug: string; count: number; resolve: () => void }> = [];
  const server = await startServer(async (req, res) => {
    const query = new URL(req.url ?? '/', 'http://resolver').searchParams;
    const slug = query.get('slug') ?? '';
    const refresh = query.get('refresh') === '1';
    const count = calls.get(slug) ?? { total: 0, refreshes: 0 };
    count.total += 1;
    if (refresh) count.refreshes += 1;
    calls.set(slug, count);
    const call = { count: count.total, refresh };
    for (const waiter of waiters.filter((w) => w.slug === slug && count.total >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    const hold = held.get(slug);
    held.delete(slug);
    await hold;
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: url(slug, call) }));
  });
  return Object.assign(server, {
    calls,
    total: (slug: string) => calls.get(slug)?.total ?? 0,
    arrived: (slug: string, count: number) => new Promise<void>((resolve) => {
      if ((calls.get(slug)?.total ?? 0) >= count) resolve();
      else waiters.push({ slug, count, resolve });
    }),
    holdNext(slug: string) {
      let release!: () => void;
      held.set(slug, new Promise<void>((resolve) => {
        release = resolve;
      }));
      return () => release();
    },
  });
}

export interface ReplicaProcess {
  url: string;
  child: ChildProcess;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `replica-process.ts` (`node --conditions=@strm/source --import tsx`) with `env`, and
 * resolves once it listens and is connected to Redis (both read from its log lines).
 */
export async function startReplicaProcess(env: Record<string, string>): Promise<ReplicaProcess> {
  const script = fileURLToPath(new URL('./replica-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    let listening: string | undefined;
    let connected = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const text of lines) {
        const line = JSON.parse(text) as { msg?: string; url?: string; redis?: string };
        if (line.msg === 'strm-proxy listening') listening = line.url;
        if (line.redis === 'up') connected = true;
        if (connected && listening !== undefined) resolve(listening);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`replica process exited (${String(code ?? signal)}) before it was ready:\n${stderr.slice(-2000)}`)));
  });
  return {
    url,
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
