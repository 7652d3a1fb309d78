// A real redis-server on a free loopback port, for the test suites of the Redis store and the
// proxy replicas (one copy for both).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM) and resolves once the process has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (no persistence). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing (a "slow" Redis). */
  pause(): void;
  resume(): void;
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)} before it was ready:\n${output.slice(-2000)}`)));
  });
  return child;
}

/** A real `redis-server` on a free loopback port, without persistence. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freeLoopbackPort();
  let child = await spawnRedis(port);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      child = await spawnRedis(port);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}

export interface CommandWatch {
  /** Resolves once `count` executed commands (counted from the start of the watch) match. */
  seen(predicate: (args: string[]) => boolean, count: number): Promise<void>;
  stop(): void;
}

/**
 * Watches the commands Redis executes (MONITOR through `redis-cli`), e.g. to wait until every
 * replica has tried a lock. Arguments are given unquoted, command name lowercased.
 */
export async function watchRedisCommands(port: number): Promise<CommandWatch> {
  const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const commands: string[][] = [];
  const waiters: Array<{ predicate: (args: string[]) => boolean; count: number; resolve: () => void }> = [];
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (commands.filter(waiter.predicate).length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  let buffered = '';
  let started!: () => void;
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('OK')) started();
      const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!.replace(/\\(.)/g, '$1'));
      if (args.length > 0) commands.push([args[0]!.toLowerCase(), ...args.slice(1)]);
    }
    settle();
  });
  await ready;
  return {
    seen: (predicate, count) => new Promise<void>((resolve) => {
      waiters.push({ predicate, count, resolve });
      settle();
    }),
    stop: () => void child.kill('SIGTERM'),
  };
}
