import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogLine, RequestLine } from './stack';
import { createProxyLog } from './proxy-log';
// @ts-expect-error: a plain .mjs script of the workspace, without types
import { PROXY_BUILD_COMMAND, proxyBuildIsCurrent } from '../../../../tools/dev/proxy-build.mjs';

interface ProxyMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The real proxy in a child process (`node --expose-gc`), for memory figures of its own. */
export interface ChildProxy {
  readonly url: string;
  readonly pid: number;
  readonly logs: readonly LogLine[];
  requestLines(from?: number): RequestLine[];
  /** Resolves once `count` request lines were logged after index `from` of `logs`; rejects after `timeoutMs`. */
  requestLinesLogged(count: number, from: number, timeoutMs: number): Promise<RequestLine[]>;
  /** Memory after two forced GCs. */
  memory(): Promise<ProxyMemory>;
  /** Memory as it is, no GC forced (cheap enough to sample every second under load). */
  usage(): Promise<ProxyMemory>;
  /** False once the process exited (crashed or closed). */
  alive(): boolean;
  /** Starts a new peak-RSS window. */
  resetPeak(): Promise<void>;
  /** Highest RSS sampled (every 25 ms) since the last `resetPeak`. */
  peakRss(): Promise<number>;
  close(): Promise<void>;
}

const SCRIPT = join(import.meta.dirname, 'proxy-process.mjs');

/**
 * Starts the compiled proxy (apps/proxy/dist) in a child process. `npm test` builds it before the
 * e2e suites run (the e2e test target depends on the build); a missing or stale build is refused
 * with the command that makes it, never measured.
 */
export async function startChildProxy(env: Record<string, string>): Promise<ChildProxy> {
  if (!proxyBuildIsCurrent()) {
    throw new Error(`the compiled proxy is missing or older than its sources: build it with \`pnpm ${PROXY_BUILD_COMMAND.join(' ')}\``);
  }
  const child: ChildProcess = fork(SCRIPT, [], {
    execArgv: ['--expose-gc'],
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const log = createProxyLog();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) log.add(line);
  });
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  child.on('message', (message: { id: number } & Record<string, unknown>) => {
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const exited = once(child, 'exit');
  let nextId = 1;
  const ask = (kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ id, kind }, (error) => error && reject(error));
    });

  const started = await Promise.race([
    new Promise<Record<string, unknown>>((resolve) => waiting.set(0, resolve)),
    exited.then(([code]) => {
      throw new Error(`the proxy process exited with ${String(code)} before listening:\n${stderr}`);
    }),
  ]);
  return {
    url: String(started.url),
    pid: child.pid!,
    logs: log.logs,
    requestLines: log.requestLines,
    requestLinesLogged: log.requestLinesLogged,
    memory: async () => (await ask('memory')) as unknown as ProxyMemory,
    usage: async () => (await ask('usage')) as unknown as ProxyMemory,
    alive: () => child.exitCode === null && child.signalCode === null,
    resetPeak: async () => {
      await ask('peak-reset');
    },
    peakRss: async () => Number((await ask('peak')).peakRss),
    async close() {
      if (child.exitCode !== null) return;
      await ask('close');
      await exited;
    },
  };
}
