import { pino, type Logger } from 'pino';

/**
 * Log lines for a stream (standard output), written together once per turn of the event loop.
 * Under load a request ends every few microseconds, and a write of its own for each line (a
 * system call on the main thread, for a pipe or a file alike) cost more than the line itself; the
 * lines of one turn now go out in one write before the loop waits again (`setImmediate`), and
 * what is still pending when the process exits goes out then, even after an uncaught exception.
 */
export class TurnBatchedLines {
  readonly #out: NodeJS.WritableStream;
  #pending = '';
  #scheduled = false;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  write(line: string): boolean {
    this.#pending += line;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flushSync);
    }
    return true;
  }

  /** Writes what is pending now (pino's `logger.flush()` calls `flush`). */
  readonly flushSync = (): void => {
    this.#scheduled = false;
    if (this.#pending === '') return;
    const text = this.#pending;
    this.#pending = '';
    this.#out.write(text);
  };

  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }
}

let standardOutput: TurnBatchedLines | undefined;

/** The one batched standard output of the process, flushed when it exits. */
function batchedStandardOutput(): TurnBatchedLines {
  if (standardOutput === undefined) {
    const lines = new TurnBatchedLines(process.stdout);
    process.on('exit', lines.flushSync);
    standardOutput = lines;
  }
  return standardOutput;
}

/**
 * The proxy's JSON logger, on standard output (batched per turn of the event loop, see
 * `TurnBatchedLines`) unless a destination is given. Request lines carry paths without query
 * strings and proxy tokens shortened, so signatures, API keys, tokens and upstream URLs never
 * reach a log; the paths below catch anything passed by mistake.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'strm-proxy' },
      redact: {
        paths: ['secret', 'sig', 'apikey', 'token', 'headers.cookie', 'headers.authorization', 'headers["x-api-key"]', 'config.secret', 'config.previousSecrets'],
        censor: '[redacted]',
      },
    },
    destination ?? batchedStandardOutput(),
  );
}

/**
 * The request path as it may be logged: no query, the token of `/strm/proxy` cut short. Routes
 * match without regard to case, so `/STRM/Proxy/<token>` is shortened too.
 */
export function loggablePath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.replace(/^(\/strm\/proxy\/[^/]{8})[^/]*/i, '$1…');
}
