import { Writable } from 'node:stream';
import type { LogLine, RequestLine } from './stack';

/** The proxy's JSON log lines as they arrive, with a wait for request lines (event-driven). */
export interface ProxyLog {
  readonly logs: readonly LogLine[];
  /** Adds one line of the proxy's output (JSON text) and wakes the waiters. */
  add(text: string): void;
  /** The request lines logged since `from` (an index into `logs`). */
  requestLines(from?: number): RequestLine[];
  /** Resolves once `count` request lines were logged after index `from`; rejects after `timeoutMs`. */
  requestLinesLogged(count: number, from: number, timeoutMs: number): Promise<RequestLine[]>;
}

export function createProxyLog(): ProxyLog {
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  const requestLines = (from = 0) => logs.slice(from).filter((line) => line.msg === 'request') as unknown as RequestLine[];
  return {
    logs,
    add(text) {
      if (text === '') return;
      logs.push(JSON.parse(text) as LogLine);
      for (const check of waiters) check();
    },
    requestLines,
    requestLinesLogged: (count, from, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const lines = requestLines(from);
          if (lines.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(lines);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} request lines in the proxy's log within ${timeoutMs} ms, received ${requestLines(from).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/**
 * A stream for the proxy's logger that adds each complete line written to it to `log`; a line
 * split across writes is kept until its end arrives.
 */
export function logSink(log: ProxyLog): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const text of lines) log.add(text);
      callback();
    },
  });
}
