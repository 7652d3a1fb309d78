import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Aborted when a client goes away, and every upstream request made for it stops with it: an
 * `EventEmitter` with `aborted` and `reason`, which undici takes as a request's `signal` as it
 * takes an `AbortSignal`. One is made for every media request, and undici listens to it for as
 * long as each upstream answer runs; on Node 20 an `AbortSignal` is an `EventTarget`, whose
 * listeners cost many times what an emitter's do (tools/bench/README.md, "What a small request
 * costs").
 */
export class ClientAbort extends EventEmitter {
  /** Whether `abort()` was called. */
  aborted = false;
  /** Why: the `AbortError` of `abort()`, undefined before. */
  reason: unknown = undefined;

  /** Aborts with an `AbortError`, as `AbortController.abort()` does; a second call does nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DOMException('This operation was aborted', 'AbortError');
    this.emit('abort');
  }

  /** Throws the reason once aborted. */
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
}

/** What stops an upstream request: a client request's `ClientAbort`, or any `AbortSignal`. */
export type UpstreamAbort = ClientAbort | AbortSignal;

/** Waits `ms`, or until `signal` aborts, whichever comes first. */
export async function pauseUnlessAborted(ms: number, signal: UpstreamAbort | undefined): Promise<void> {
  if (!(signal instanceof ClientAbort)) {
    await delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
    return;
  }
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.off('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.once('abort', done);
  });
}
