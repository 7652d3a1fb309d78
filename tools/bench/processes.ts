// The servers of the benchmark run as processes of their own, so that the CPU time and the memory
// of each one can be read from /proc, apart from the client (this process) and from the origin.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync, watch } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
export const benchDir = join(root, 'tools', 'bench');
/** How workspace TypeScript runs without a build (see tools/dev/run.mjs). */
const SOURCE_NODE_ARGS = ['--conditions=@strm/source', '--import', 'tsx'];

/**
 * Every server of the bench runs with the allocator setting the container ships (Dockerfile): glibc
 * keeps up to 32 MiB of freed heap, in a single arena shared by all threads. Without it some
 * processes fault in fresh pages for every 64 KiB socket read and cost 0.2-0.7 CPU s/GiB more, by
 * chance, whichever route they serve (README, "The allocator setting"). `GLIBC_TUNABLES=` in the
 * bench's environment overrides it.
 */
const MALLOC_TUNABLES = process.env.GLIBC_TUNABLES ?? 'glibc.malloc.trim_threshold=33554432:glibc.malloc.arena_max=1';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds of a process, all its threads: from /proc/<pid>/task/<tid>/schedstat (nanoseconds)
 * where the kernel has it, else user + system time from /proc/<pid>/stat (clock ticks, 10 ms).
 */
function cpuSecondsOf(pid: number): number {
  try {
    let nanoseconds = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(nanoseconds) && nanoseconds > 0) return nanoseconds / 1e9;
  } catch {
    // no schedstat on this kernel, or a thread ended while it was read: use the coarser counters
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / ticksPerSecond();
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
function rssBytesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** A running server process of the benchmark. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What the process printed when it was ready (parsed JSON), for servers that say more than a URL. */
  readonly info: Record<string, unknown>;
  /** When it said it was ready (`performance.now()` of the bench). */
  readonly readyAt: number;
  cpuSeconds(): number;
  rssBytes(): number;
  /** SIGTERM, then SIGKILL if it does not exit in time. */
  stop(): Promise<void>;
}

interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: Record<string, string>;
  /** Reads one stdout line; returns the parsed ready message when the server is listening. */
  ready: (line: string) => Record<string, unknown> | undefined;
  /**
   * Where stdout goes, instead of a pipe to this process. A server that logs a line per request
   * writes to a pipe synchronously (Node does, on Linux): read by the busy client, a full pipe
   * would stall the server's event loop and the benchmark would measure its own reading. A file
   * is what a deployment writes its log to.
   */
  stdoutFile?: string;
}

/** Waits for the ready line in the server's stdout file (watched, and read again on each change). */
function readyFromFile(path: string, child: ChildProcess, options: StartOptions, stderr: () => string): Promise<Record<string, unknown>> {
  return new Promise((resolveReady, reject) => {
    const watcher = watch(path);
    const finish = (error: Error | undefined, info?: Record<string, unknown>) => {
      clearTimeout(timer);
      watcher.close();
      child.removeAllListeners('exit');
      if (error) {
        child.kill('SIGKILL');
        reject(new Error(`${error.message}\n${stderr()}`));
      } else resolveReady(info!);
    };
    const check = () => {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const info = options.ready(line);
        if (info !== undefined) return finish(undefined, info);
      }
    };
    const timer = setTimeout(() => finish(new Error(`${options.name} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('exit', (code, signal) => finish(new Error(`${options.name} exited (${code ?? signal}) before it was ready`)));
    watcher.on('change', check);
    check();
  });
}

/** Starts a server that announces itself with one stdout line; the rest of its stdout is drained. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const stdoutFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'w');
  const child = spawn(options.command, options.args, {
    cwd: root,
    env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES, ...options.env },
    stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'],
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  if (options.stdoutFile !== undefined) {
    const info = await readyFromFile(options.stdoutFile, child, options, () => stderr);
    return processHandle(options.name, child, info, () => stderr);
  }
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<Record<string, unknown>>((resolveReady, reject) => {
    const timer = setTimeout(() => fail(new Error(`${options.name} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${stderr}`));
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`${options.name} exited (${code ?? signal}) before it was ready`)));
    lines.on('line', (line) => {
      const ready = options.ready(line);
      if (ready === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      // From now on stdout (request logs) is read and dropped, so the child never blocks on a full pipe.
      lines.removeAllListeners('line');
      lines.on('line', () => {});
      resolveReady(ready);
    });
  });
  return processHandle(options.name, child, info, () => stderr);
}

function processHandle(name: string, child: ChildProcess, info: Record<string, unknown>, stderr: () => string): ServerProcess {
  const pid = child.pid!;
  let exited = child.exitCode !== null;
  child.once('exit', () => (exited = true));
  return {
    name,
    pid,
    url: String(info.url),
    info,
    readyAt: performance.now(),
    cpuSeconds: () => cpuSecondsOf(pid),
    rssBytes: () => rssBytesOf(pid),
    async stop() {
      if (exited) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        process.stderr.write(`bench: ${name} did not stop on SIGTERM, killing it\n${stderr()}\n`);
        child.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Runs a TypeScript file of the workspace with Node (sources, no build), as a server. */
export function startNodeServer(
  name: string,
  file: string,
  options: { args?: readonly string[]; env?: Record<string, string>; nodeArgs?: readonly string[]; ready?: StartOptions['ready'] } = {},
): Promise<ServerProcess> {
  return startServer({
    name,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), ...SOURCE_NODE_ARGS, join(root, file), ...(options.args ?? [])],
    ...(options.env ? { env: options.env } : {}),
    ready: options.ready ?? jsonReadyLine,
  });
}

/** The ready message of the benchmark's own servers: one JSON line with a `url`. */
export function jsonReadyLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    return typeof parsed.url === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A free loopback port (for nginx, which cannot report the one it bound to port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

/** Resolves once something accepts TCP connections on the port, within `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolveProbe) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolveProbe(true);
      });
      socket.once('error', () => resolveProbe(false));
    });
    if (accepted) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Wraps an already spawned process (nginx) as a {@link ServerProcess}. */
export function adoptProcess(name: string, child: ChildProcess, url: string, stderr: () => string): ServerProcess {
  return processHandle(name, child, { url }, stderr);
}
