import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

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
  /** Bytes already read from `body` (e.g. while sniffing), written first. */
  initial?: readonly Buffer[];
  /** Bytes of the body to drop before writing (the upstream ignored a Range). */
  skip?: number;
  /** Most bytes to write; the body is destroyed once they are written. */
  limit?: number | undefined;
  /** Told the size of each chunk handed to the client, as it goes (live byte counts). */
  onWrite?: (count: number) => void;
}

/**
 * Copies an upstream body to the client with backpressure: when the client's socket is full
 * the upstream is paused, so a slow client slows the upstream read and memory per stream stays
 * at a socket buffer or two. Never ends the response: the caller decides whether the bytes so
 * far are the whole answer, resumes from another upstream response, or aborts.
 */
export function pumpBody(body: Readable, res: ServerResponse, options: PumpOptions = {}): Promise<PumpOutcome> {
  return new Promise((resolve) => {
    let written = 0;
    let skip = options.skip ?? 0;
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    let settled = false;
    /** Bytes past the limit were read: the upstream sends more than was asked for. */
    let surplus = false;

    const settle = (outcome: PumpOutcome) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      res.off('close', onClose);
      res.off('drain', onDrain);
      resolve(outcome);
    };
    const onDrain = () => body.resume();
    const onEnd = () => settle({ kind: 'done', written });
    const onError = (error: Error) => settle({ kind: 'upstream-error', written, error });
    const onClose = () => {
      discardBody(body);
      settle({ kind: 'client-gone', written });
    };

    /** Writes what is left of a chunk after skip/limit; false when the client buffer is full. */
    const write = (input: Buffer): boolean => {
      let chunk = input;
      if (skip > 0) {
        if (chunk.length <= skip) {
          skip -= chunk.length;
          return true;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      if (chunk.length > remaining) {
        chunk = chunk.subarray(0, remaining);
        surplus = true;
      }
      remaining -= chunk.length;
      written += chunk.length;
      options.onWrite?.(chunk.length);
      return res.write(chunk);
    };
    const onData = (chunk: Buffer) => {
      const ok = write(chunk);
      if (remaining === 0) {
        settle({ kind: 'done', written });
        if (surplus) discardBody(body);
        else releaseAtLimit(body);
      } else if (!ok) {
        body.pause();
        res.once('drain', onDrain);
      }
    };

    if (res.destroyed) {
      discardBody(body);
      settle({ kind: 'client-gone', written });
      return;
    }
    res.on('close', onClose);
    body.on('error', onError);
    body.on('end', onEnd);
    let full = false;
    for (const chunk of options.initial ?? []) full = !write(chunk) || full;
    if (remaining === 0 || body.readableEnded) {
      settle({ kind: 'done', written });
      if (surplus) discardBody(body);
      else releaseAtLimit(body);
      return;
    }
    body.on('data', onData);
    // A body paused while its head was sniffed does not flow again by itself.
    if (full) {
      body.pause();
      res.once('drain', onDrain);
    } else {
      body.resume();
    }
  });
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
