import { spawn, type ChildProcess } from 'node:child_process';
import { ResolverError } from './errors';
import { commandEnvironment, expandCommandArguments } from './command-line';
import { assertEpisodeIdentity, type EpisodeIdentity } from './identity';
import { describeIdentity } from './http-source';
import { checkPositiveInteger } from './options';
import { resolutionFromRecord, urlProblem, type Resolution, type ResolutionSource } from './resolution';

/**
 * Options of {@link createCommandResolverSource}.
 *
 * @example
 * ```ts
 * const options: CommandResolverSourceOptions = {
 *   command: parseCommandLine('/opt/resolve --slug {slug} -s {season} -e {episode} --lang "{language}"'),
 *   env: { PATH: '/usr/bin:/bin', HOME: '/home/strm' },
 *   timeoutMs: 30_000,
 *   concurrency: 2,
 * };
 * ```
 */
export interface CommandResolverSourceOptions {
  /** The program and its arguments, `{placeholders}` inside entries expanded per call (see {@link parseCommandLine}). */
  command: readonly string[];
  /**
   * The environment of the program, to which the identity variables are added. Default: none but
   * those (the library reads no environment; pass your own, minus your secrets, to inherit it).
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Working directory of the program. Default: the current one. */
  cwd?: string;
  /** Longest run of one process, from start to exit; it is then killed with its process group. Default 30000. */
  timeoutMs?: number;
  /** Largest accepted standard output. Default 1048576 (1 MiB). */
  maxOutputBytes?: number;
  /** Processes running at once; further resolutions wait in a queue. Default 2. */
  concurrency?: number;
  /** Resolutions allowed to wait; one more fails at once with `STRM_RESOLVER_UNAVAILABLE`. Default 100. */
  maxQueued?: number;
}

/**
 * What {@link createCommandResolverSource} returns: a {@link ResolutionSource} that says how busy it is.
 *
 * @example
 * ```ts
 * const source: CommandResolverSource = createCommandResolverSource({ command: ['/opt/resolve'] });
 * source.running; // 0
 * source.queued;  // 0
 * ```
 */
export interface CommandResolverSource extends ResolutionSource {
  /** The program (argv[0]), for logs. */
  readonly program: string;
  /** Processes running now. */
  readonly running: number;
  /** Resolutions waiting for a free process. */
  readonly queued: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_CONCURRENCY = 2;
const DEFAULT_MAX_QUEUED = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Exit status by which a command says "I do not know this episode". */
export const COMMAND_EXIT_NOT_FOUND = 2;
/** Bytes of standard error kept: enough for its last line, bounded whatever the program prints. */
const STDERR_TAIL_BYTES = 8 * 1024;
const LOGGED_LINE_CHARS = 200;

/** How one run of the program ended. */
interface CommandRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderrTail: string;
  /** Why the source ended the run itself, if it did. */
  stopped?: 'timeout' | 'output-too-large';
  spawnError?: NodeJS.ErrnoException;
}

/**
 * Makes a line of a program's standard error fit for a log: control characters out, URLs cut to
 * their scheme and host (paths and queries carry tokens), `name=value` / `name: value` pairs of
 * secret-looking names masked, long opaque strings masked, at most 200 characters.
 *
 * @example
 * ```ts
 * redactLogLine('ERROR: HTTP 403 for https://cdn.example/hls/x.m3u8?token=abc (cookie: sid=1)');
 * // 'ERROR: HTTP 403 for https://cdn.example/… (cookie: [redacted])'
 * ```
 */
export function redactLogLine(line: string): string {
  const cleaned = line
    // Control characters (but tab and line feed) would forge or garble log lines.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/\b([a-z][a-z0-9+.-]*):\/\/([^/\s"'<>?#]+)[^\s"'<>]*/gi, (_url, scheme: string, authority: string) => `${scheme}://${authority.replace(/^[^@]*@/, '')}/…`)
    .replace(/\b(token|sig|signature|key|apikey|api_key|password|passwd|pass|secret|auth|authorization|cookie|set-cookie|session|sid|bearer)(\s*[=:]\s*|\s+)("[^"]*"|'[^']*'|[^\s,;&)]+)/gi, '$1$2[redacted]')
    .replace(/[A-Za-z0-9_\-+/=.]{32,}/g, '[redacted]')
    .trim();
  return cleaned.length > LOGGED_LINE_CHARS ? `${cleaned.slice(0, LOGGED_LINE_CHARS)}…` : cleaned;
}

/** The last line of standard error that has text, redacted; or undefined. */
function lastStderrLine(tail: string): string | undefined {
  // Node ends a crash report with its version, which says nothing about the failure.
  const lines = tail.split(/\r?\n|\r/).map((line) => line.trim()).filter((line) => line !== '' && !/^Node\.js v\d/.test(line));
  const last = lines.at(-1);
  return last === undefined ? undefined : redactLogLine(last);
}

/** Kills the program and everything it started: it leads its own process group. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone. Where there are no process groups (Windows), at least
    // the program itself goes; on an exited program this does nothing.
    child.kill('SIGKILL');
  }
}

/**
 * Runs the program once. It leads a process group of its own (`detached`), so that a timeout,
 * too much output or its own exit ends every process it started: a helper left behind would keep
 * the pipes open and hold resources nobody waits for.
 */
function runCommand(argv: readonly string[], env: Record<string, string>, cwd: string | undefined, timeoutMs: number, maxOutputBytes: number): Promise<CommandRun> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true });
    } catch (error) {
      resolve({ exitCode: null, signal: null, stdout: Buffer.alloc(0), stderrTail: '', spawnError: error as NodeJS.ErrnoException });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let stderrTail = '';
    let stopped: CommandRun['stopped'];
    let spawnError: NodeJS.ErrnoException | undefined;
    const stop = (why: NonNullable<CommandRun['stopped']>) => {
      stopped ??= why;
      killGroup(child);
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    let finished = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const run: CommandRun = { exitCode, signal, stdout: Buffer.concat(chunks), stderrTail };
      if (stopped !== undefined) run.stopped = stopped;
      if (spawnError !== undefined) run.spawnError = spawnError;
      resolve(run);
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      if (stopped !== undefined) return;
      size += chunk.length;
      if (size > maxOutputBytes) stop('output-too-large');
      else chunks.push(chunk);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      // A program that never started has no exit to wait for.
      if (child.pid === undefined) finish(null, null);
    });
    // 'exit' comes when the program ends; its pipes may stay open in processes it started.
    // Killing its group then lets 'close' come at once.
    child.once('exit', () => killGroup(child));
    child.once('close', finish);
  });
}

/**
 * Reads a resolution from the program's standard output: a JSON object (the whole output, or its
 * last non-empty line after lines of progress), or a plain URL on the last non-empty line.
 */
function parseCommandOutput(stdout: Buffer, what: string): Resolution {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(stdout);
  } catch {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: printed ${stdout.length} bytes that are not UTF-8; expected a JSON resolution or a URL`);
  }
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const last = lines.at(-1);
  if (last === undefined) {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: exited 0 but printed nothing; expected a JSON resolution or a URL on the last line (exit ${COMMAND_EXIT_NOT_FOUND} means "episode unknown")`);
  }
  const json = jsonText(text.trim(), last);
  if (json === undefined) {
    const problem = urlProblem(last);
    if (problem !== undefined) {
      throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: the last line of its output ${problem.expected}; received ${problem.received}`);
    }
    return { url: last, headers: {} };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    // No excerpt: the output may hold an upstream URL with its token.
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: printed output starting with "{" that is not valid JSON (${stdout.length} bytes)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: printed JSON that is not an object; expected {"url": …}`);
  }
  const checked = resolutionFromRecord(value as Record<string, unknown>, { expiresAt: true });
  if (!('resolution' in checked)) {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: printed a resolution whose "${checked.field}" ${checked.expected}; received ${checked.received}`);
  }
  return checked.resolution;
}

/**
 * The JSON text of the output: all of it when it is one JSON document (pretty-printed output),
 * else its last line when that looks like JSON (lines of progress before it), else undefined
 * (a URL line).
 */
function jsonText(whole: string, last: string): string | undefined {
  if (whole.startsWith('{')) {
    try {
      JSON.parse(whole);
      return whole;
    } catch {
      // Perhaps progress lines that start with "{" and then the answer.
    }
  }
  if (last.startsWith('{')) return last;
  return whole.startsWith('{') ? whole : undefined;
}

/** Turns how a run ended into a resolution or a {@link ResolverError}. */
function outcomeOf(run: CommandRun, what: string, limits: { timeoutMs: number; maxOutputBytes: number }): Resolution {
  const stderr = lastStderrLine(run.stderrTail);
  const said = stderr === undefined ? '' : `; its last error line: ${stderr}`;
  if (run.spawnError !== undefined) {
    throw new ResolverError('STRM_RESOLVER_UNAVAILABLE', `${what}: could not start the program (${run.spawnError.code ?? run.spawnError.message})`, { cause: run.spawnError });
  }
  if (run.stopped === 'timeout') {
    throw new ResolverError('STRM_RESOLVER_TIMEOUT', `${what}: did not finish within ${limits.timeoutMs} ms and was killed with its process group${said}`);
  }
  if (run.stopped === 'output-too-large') {
    throw new ResolverError('STRM_RESOLVER_BAD_RESPONSE', `${what}: printed more than ${limits.maxOutputBytes} bytes and was killed; expected a JSON resolution or a URL`);
  }
  if (run.exitCode === COMMAND_EXIT_NOT_FOUND) {
    throw new ResolverError('STRM_RESOLVER_NOT_FOUND', `${what}: does not know this episode (exit ${COMMAND_EXIT_NOT_FOUND})${said}`);
  }
  if (run.exitCode !== 0) {
    const how = run.exitCode === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited ${run.exitCode}`;
    throw new ResolverError('STRM_RESOLVER_UNAVAILABLE', `${what}: ${how}; expected 0, or ${COMMAND_EXIT_NOT_FOUND} for an unknown episode${said}`);
  }
  return parseCommandOutput(run.stdout, what);
}

/** A first-come queue of at most `limit` running tasks; waiting is bounded in count and time. */
function createRunQueue(limit: number, maxQueued: number) {
  let running = 0;
  const waiting: Array<{ start: () => void; deadline: number; expire: () => void }> = [];
  const next = () => {
    running -= 1;
    // A waiter whose time is up never starts, even if its timer has not fired yet.
    let entry = waiting.shift();
    while (entry !== undefined && performance.now() >= entry.deadline) {
      entry.expire();
      entry = waiting.shift();
    }
    entry?.start();
  };
  return {
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
    /** Runs `task` when a slot is free; rejects with `onFull`/`onWaitedTooLong` errors instead. */
    run<T>(task: () => Promise<T>, waitLimitMs: number, errors: { full: () => Error; waitedTooLong: () => Error }): Promise<T> {
      const go = (): Promise<T> => {
        running += 1;
        return task().finally(next);
      };
      if (running < limit) return go();
      if (waiting.length >= maxQueued) return Promise.reject(errors.full());
      return new Promise<T>((resolve, reject) => {
        const entry = {
          deadline: performance.now() + waitLimitMs,
          start: () => {
            clearTimeout(timer);
            go().then(resolve, reject);
          },
          expire: () => {
            clearTimeout(timer);
            reject(errors.waitedTooLong());
          },
        };
        const timer = setTimeout(() => {
          const index = waiting.indexOf(entry);
          if (index >= 0) waiting.splice(index, 1);
          reject(errors.waitedTooLong());
        }, waitLimitMs);
        waiting.push(entry);
      });
    },
  };
}

/**
 * A {@link ResolutionSource} that runs a program per resolution, without a shell.
 *
 * - **Input**: argv is `command` with `{site} {slug} {season} {episode} {language} {provider}`
 *   expanded inside entries (a slug of `$(reboot)` is that text, in one entry); the environment
 *   is `env` plus `STRM_SITE`, `STRM_SLUG`, `STRM_SEASON`, `STRM_EPISODE`, `STRM_LANGUAGE`,
 *   `STRM_PROVIDER` and `STRM_REFRESH` (`1` on a refresh). Standard input is empty.
 * - **Output**: exit 0 and, on standard output, the resolver contract's JSON object
 *   (`{"url", "headers"?, "provider"?, "expiresAt"?}`, the whole output or its last non-empty
 *   line) or a URL on the last non-empty line. Exit 2 is `STRM_RESOLVER_NOT_FOUND`; any other
 *   exit, a signal or a program that cannot start is `STRM_RESOLVER_UNAVAILABLE`; output that is
 *   not a valid resolution or exceeds `maxOutputBytes` is `STRM_RESOLVER_BAD_RESPONSE`; a run
 *   longer than `timeoutMs` is `STRM_RESOLVER_TIMEOUT`. Messages carry the last line of standard
 *   error, redacted ({@link redactLogLine}), never standard output.
 * - **Bounds**: the program leads its own process group, which is killed (SIGKILL) at the
 *   timeout, when the output grows too large, and when the program exits (nothing it started
 *   outlives it). At most `concurrency` processes run at once; others wait in order, at most
 *   `maxQueued` of them and each at most `timeoutMs` (then `STRM_RESOLVER_TIMEOUT`).
 *
 * Options are checked here and throw a `TypeError`.
 *
 * @example
 * ```ts
 * const source = createCommandResolverSource({
 *   command: parseCommandLine('node adapters/yt-dlp.mjs https://videos.example/{slug}/{season}x{episode}'),
 *   env: { PATH: '/usr/bin:/bin' },
 * });
 * await source.resolve({ site: 'videos.example', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' }, { refresh: false });
 * // { url: 'https://cdn.example/…/master.m3u8', headers: { 'User-Agent': '…' } }
 * ```
 */
export function createCommandResolverSource(options: CommandResolverSourceOptions): CommandResolverSource {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${options === null ? 'null' : typeof options}`);
  }
  const { command } = options;
  if (!Array.isArray(command) || command.length === 0 || command.some((entry) => typeof entry !== 'string') || command[0] === '') {
    throw new TypeError('options.command must be a non-empty array of strings whose first entry names the program');
  }
  const argvTemplate = [...command] as string[];
  const baseEnv: Record<string, string> = {};
  if (options.env !== undefined) {
    if (typeof options.env !== 'object' || options.env === null) {
      throw new TypeError(`options.env must be an object of strings; received a value of type ${typeof options.env}`);
    }
    for (const [name, value] of Object.entries(options.env)) if (typeof value === 'string') baseEnv[name] = value;
  }
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd === '')) {
    throw new TypeError('options.cwd must be a non-empty string when given');
  }
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 'options.timeoutMs', DEFAULT_TIMEOUT_MS, MAX_TIMER_MS);
  const maxOutputBytes = checkPositiveInteger(options.maxOutputBytes, 'options.maxOutputBytes', DEFAULT_MAX_OUTPUT_BYTES);
  const concurrency = checkPositiveInteger(options.concurrency, 'options.concurrency', DEFAULT_CONCURRENCY, 1024);
  const maxQueued = options.maxQueued === 0 ? 0 : checkPositiveInteger(options.maxQueued, 'options.maxQueued', DEFAULT_MAX_QUEUED);
  const program = argvTemplate[0]!;
  const queue = createRunQueue(concurrency, maxQueued);

  async function resolve(identity: EpisodeIdentity, callOptions: { refresh: boolean; signal?: AbortSignal }): Promise<Resolution> {
    assertEpisodeIdentity(identity);
    const refresh = callOptions?.refresh === true;
    const what = `resolver command ${program} for ${describeIdentity(identity)}`;
    const identityEnv = commandEnvironment(identity, refresh);
    if (Object.values(identityEnv).some((value) => value.includes('\0'))) {
      // No program can receive a NUL in argv or the environment: no command knows such an episode.
      throw new ResolverError('STRM_RESOLVER_NOT_FOUND', `${what}: the identity holds a NUL character`);
    }
    const argv = expandCommandArguments(argvTemplate, identity);
    const env = { ...baseEnv, ...identityEnv };
    return queue.run(
      async () => outcomeOf(await runCommand(argv, env, options.cwd, timeoutMs, maxOutputBytes), what, { timeoutMs, maxOutputBytes }),
      timeoutMs,
      {
        full: () => new ResolverError('STRM_RESOLVER_UNAVAILABLE', `${what}: ${concurrency} processes are running and ${maxQueued} resolutions wait already`),
        waitedTooLong: () => new ResolverError('STRM_RESOLVER_TIMEOUT', `${what}: waited ${timeoutMs} ms for one of ${concurrency} resolver processes`),
      },
    );
  }

  return {
    program,
    resolve,
    get running() {
      return queue.running;
    },
    get queued() {
      return queue.queued;
    },
  };
}
