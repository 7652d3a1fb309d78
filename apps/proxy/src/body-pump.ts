import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { isLent, releaseRead } from './upstream-reads';

const ignore = () => {};

/**
 * Drops a body that will not be read (or not to its end). undici reports the destroy of an
 * unfinished body as an 'error' event; with no listener left that event would crash the process.
 */
export function discardBody(body: Readable): void {
  body.on('error', ignore);
  body.destroy();
}

/**
 * The limit was reached on a chunk boundary: usually the body is complete and its 'end' comes
 * next. Letting it come keeps the upstream connection in undici's pool (a destroyed body closes
 * it, and the next request pays a new connection); should more bytes arrive, the body is dropped.
 */
function releaseAtLimit(body: Readable): void {
  if (body.readableEnded || body.destroyed) return;
  body.on('error', ignore);
  body.once('data', () => body.destroy());
  body.resume();
}

export type PumpOutcome =
  | { kind: 'done'; written: number }
  | { kind: 'upstream-error'; written: number; error: Error }
  | { kind: 'client-gone'; written: number };

export interface PumpOptions {
  /**
   * Bytes already read from `body` (e.g. while sniffing), written first. They are taken out of
   * the array as they are written (unless the client is already gone): the callers that hold it
   * wait for the whole stream, and a slow viewer's first chunk (a 64 KiB read) would otherwise
   * stay in memory until it ends.
   */
  initial?: Buffer[];
  /** Bytes of the body to drop before writing (the upstream ignored a Range). */
  skip?: number;
  /** Most bytes to write; the body is destroyed once they are written. */
  limit?: number | undefined;
  /**
   * Counts the bytes handed to the client as they go, chunk by chunk (a long stream's count grows
   * while it plays: the status page reads it live). A counter, not a callback: the chunk path
   * stays an addition.
   */
  tally?: { bytes: number };
}

/** Whether an answer has no body at all: one to a HEAD, a 204 or a 304 (Node sends none for them). */
export const isBodyless = (method: string | undefined, status: number): boolean => method === 'HEAD' || status === 204 || status === 304;

/**
 * One copy of an upstream body to the client. Its listeners are made once per copy, never per
 * chunk: the chunk path is a subarray or two and a socket write (with, for a chunk in a lent
 * read buffer, the callback that hands it back).
 */
class BodyCopy {
  written = 0;
  readonly #body: Readable;
  readonly #res: ServerResponse;
  readonly #resolve: (outcome: PumpOutcome) => void;
  readonly #tally: { bytes: number };
  #skip: number;
  #remaining: number;
  #settled = false;
  /** Bytes past the limit were read: the upstream sends more than was asked for. */
  #surplus = false;
  /** The client's socket, once the chunks go to it straight (`#write`). */
  #straight: Socket | undefined;

  constructor(body: Readable, res: ServerResponse, options: PumpOptions, resolve: (outcome: PumpOutcome) => void) {
    this.#body = body;
    this.#res = res;
    this.#resolve = resolve;
    this.#tally = options.tally ?? { bytes: 0 };
    this.#skip = options.skip ?? 0;
    this.#remaining = options.limit ?? Number.POSITIVE_INFINITY;
  }

  start(initial: Buffer[]): void {
    const body = this.#body;
    if (this.#res.destroyed) {
      // Never started: no listener to take off.
      discardBody(body);
      this.#resolve({ kind: 'client-gone', written: this.written });
      return;
    }
    this.#res.on('close', this.#onClose);
    body.on('error', this.#onError);
    body.on('end', this.#onEnd);
    let full = false;
    for (let chunk = initial.shift(); chunk !== undefined; chunk = initial.shift()) full = !this.#write(chunk) || full;
    if (this.#remaining === 0 || body.readableEnded) {
      this.#finishAtLimit();
      return;
    }
    body.on('data', this.#onData);
    // A body paused while its head was sniffed does not flow again by itself.
    if (full) this.#waitForDrain();
    else body.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    const ok = this.#write(chunk);
    if (this.#remaining === 0) this.#finishAtLimit();
    else if (!ok) this.#waitForDrain();
  };
  readonly #onDrain = (): void => {
    this.#body.resume();
  };
  readonly #onEnd = (): void => this.#settle({ kind: 'done', written: this.written });
  readonly #onError = (error: Error): void => this.#settle({ kind: 'upstream-error', written: this.written, error });
  readonly #onClose = (): void => {
    discardBody(this.#body);
    this.#settle({ kind: 'client-gone', written: this.written });
  };

  #waitForDrain(): void {
    this.#body.pause();
    (this.#straight ?? this.#res).once('drain', this.#onDrain);
  }

  /** Writes what is left of a chunk after skip/limit; false when the client buffer is full. */
  #write(input: Buffer): boolean {
    let chunk = input;
    if (this.#skip > 0) {
      if (chunk.length <= this.#skip) {
        this.#skip -= chunk.length;
        releaseRead(input);
        return true;
      }
      chunk = chunk.subarray(this.#skip);
      this.#skip = 0;
    }
    if (chunk.length > this.#remaining) {
      chunk = chunk.subarray(0, this.#remaining);
      this.#surplus = true;
    }
    this.#remaining -= chunk.length;
    this.written += chunk.length;
    this.#tally.bytes += chunk.length;
    const straight = this.#straight;
    const res = this.#res;
    // A chunk read into a lent buffer (upstream-reads.ts) hands it back once the socket took it.
    // A callback of its own rather than a queue shared by the copy: a write refused after the
    // end calls back before earlier writes have gone, and a queue would pair the wrong chunk.
    const written = isLent(input)
      ? (error?: Error | null) => {
          if (!error) releaseRead(input);
        }
      : undefined;
    // An ended response (nothing ends one while its copy runs) goes back to res.write, which
    // refuses the chunk rather than put it inside the connection's next response.
    if (straight !== undefined && !res.writableEnded) return straight.write(chunk, written) || straight.writableLength === 0;
    const { socket } = res;
    if (socket === null) return res.write(chunk, written);
    // write() says false for every chunk at or above the socket's high-water mark (16 KiB on
    // Node 20; a read is 64 KiB), even when the kernel takes the chunk whole. The write goes out
    // now rather than at the end of the tick (Node corks a response's socket until then), and the
    // client counts as full only when bytes are left over: no pause and resume per chunk for a
    // client that keeps up, and a slow one holds what it did before (less than the high-water
    // mark plus the chunk it did not take).
    socket.cork();
    let accepted: boolean;
    try {
      accepted = res.write(chunk, written);
    } finally {
      socket.uncork();
    }
    // The head is out now. When the body goes as it is (not in chunks; a HEAD, a 204 and a 304
    // have none), the next chunks go to the socket straight: `res.write` queued each behind a
    // cork and wrote it from that queue, microseconds per 64 KiB read that a GiB streamed pays
    // 16,384 times (tools/bench/README.md, "A start-up window of a minute; chunks straight to the
    // socket").
    if (!res.chunkedEncoding && socket.writable && !isBodyless(res.req.method, res.statusCode)) this.#straight = socket;
    return accepted || res.writableLength === 0;
  }

  #finishAtLimit(): void {
    this.#settle({ kind: 'done', written: this.written });
    if (this.#surplus) discardBody(this.#body);
    else releaseAtLimit(this.#body);
  }

  /** Ends a copy that started: its listeners off. */
  #settle(outcome: PumpOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    const body = this.#body;
    body.off('data', this.#onData);
    body.off('end', this.#onEnd);
    body.off('error', this.#onError);
    this.#res.off('close', this.#onClose);
    this.#res.off('drain', this.#onDrain);
    this.#straight?.off('drain', this.#onDrain);
    this.#resolve(outcome);
  }
}

/**
 * Copies an upstream body to the client with backpressure: when the client's socket is full
 * the upstream is paused, so a slow client slows the upstream read and memory per stream stays
 * at a socket buffer or two. Never ends the response: the caller decides whether the bytes so
 * far are the whole answer, resumes from another upstream response, or aborts.
 */
export function pumpBody(body: Readable, res: ServerResponse, options: PumpOptions = {}): Promise<PumpOutcome> {
  return new Promise((resolve) => new BodyCopy(body, res, options, resolve).start(options.initial ?? []));
}

/**
 * Reads the first bytes of a body until `decide` can tell what it is, without consuming more
 * than it needs; the chunks read are returned to be written first.
 */
export function readHead<T>(body: Readable, decide: (head: Buffer) => T | undefined, maxBytes: number): Promise<{ chunks: Buffer[]; verdict: T | undefined; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (verdict: T | undefined, ended: boolean) => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.pause();
      resolve({ chunks, verdict, ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      const verdict = decide(chunks.length === 1 ? chunk : Buffer.concat(chunks));
      if (verdict !== undefined || length >= maxBytes) finish(verdict, false);
    };
    const onEnd = () => finish(decide(Buffer.concat(chunks)), true);
    const onError = (error: Error) => {
      body.off('data', onData);
      body.off('end', onEnd);
      reject(error);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}
