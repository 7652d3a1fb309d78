import { pino, type DestinationStream, type Logger } from 'pino';

/** pino's level numbers from which a line is written at once (`error` and `fatal`). */
const WRITTEN_AT_ONCE_FROM_LEVEL = 50;

/**
 * Log lines for a stream (standard output for `strm-proxy serve`), written together once per turn
 * of the event loop: under load a request ends every few microseconds, and a write of its own for
 * each line (a system call on the main thread, to a pipe or a file alike) cost more than the line
 * itself. The lines of one turn go out in one write right after it (`setImmediate`); an `error`
 * or `fatal` line goes out at once, with those before it. Whoever runs the process calls `end()`
 * as it exits (a process `'exit'` listener): what is pending is written then, and every later
 * line at once. A process killed (SIGKILL, out of memory) loses the lines of its last turn.
 *
 * @example
 * ```ts
 * const lines = new TurnBatchedLines(process.stdout);
 * process.on('exit', () => lines.end());
 * const proxy = await startProxy(config, { logger: createLogger(config.logLevel, lines) });
 * ```
 */
export class TurnBatchedLines implements DestinationStream {
  /** Asks pino for `lastLevel` before each `write`. */
  readonly [pino.symbols.needsMetadataGsym] = true;
  /** The level of the line pino writes next (set by pino). */
  lastLevel = 0;
  readonly #out: NodeJS.WritableStream;
  #pending = '';
  #scheduled = false;
  #ended = false;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  /** Takes one line (pino calls it): written after this turn of the event loop, or at once (see the class). */
  write(line: string): boolean {
    this.#pending += line;
    if (this.#ended || this.lastLevel >= WRITTEN_AT_ONCE_FROM_LEVEL) this.#writePending();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#writePending);
    }
    return true;
  }

  /** Writes what is pending; `callback` once the stream took it (pino's `logger.flush(callback)`). */
  flush(callback?: (error?: Error | null) => void): void {
    this.#writePending(callback);
  }

  /** Writes what is pending, and every later line at once: for the process's `'exit'`. */
  end(): void {
    this.#ended = true;
    this.#writePending();
  }

  /** Also `setImmediate`'s callback, which passes no argument. */
  readonly #writePending = (callback?: (error?: Error | null) => void): void => {
    this.#scheduled = false;
    const text = this.#pending;
    this.#pending = '';
    // With nothing pending, an empty write still calls back once what came before was taken.
    if (text !== '' || callback !== undefined) this.#out.write(text, callback);
  };
}

/**
 * The proxy's JSON logger, on standard output unless a destination is given (`strm-proxy serve`
 * gives a `TurnBatchedLines`). Request lines carry paths without query strings and proxy tokens
 * shortened, so signatures, API keys, tokens and upstream URLs never reach a log; the paths below
 * catch anything passed by mistake.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'strm-proxy' },
      redact: {
        paths: ['secret', 'sig', 'apikey', 'token', 'headers.cookie', 'headers.authorization', 'headers["x-api-key"]', 'config.secret', 'config.previousSecrets'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}

const PROXY_PREFIX = '/strm/proxy/';
/** Where the part of a proxy path a log line keeps ends: the prefix and 8 characters of the token. */
const SHOWN_END = PROXY_PREFIX.length + 8;

/**
 * The request path as it may be logged: no query, the token of `/strm/proxy` cut short. Routes
 * match without regard to case, so `/STRM/Proxy/<token>` is shortened too.
 */
export function loggablePath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path.length < SHOWN_END || path.slice(0, PROXY_PREFIX.length).toLowerCase() !== PROXY_PREFIX) return path;
  const tokenEnd = path.indexOf('/', PROXY_PREFIX.length);
  // A token shorter than what is shown is left as it is.
  if (tokenEnd !== -1 && tokenEnd < SHOWN_END) return path;
  return `${path.slice(0, SHOWN_END)}…${tokenEnd === -1 ? '' : path.slice(tokenEnd)}`;
}
