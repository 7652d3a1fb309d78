/** One operation in progress for one key: a lookup (and call) or a refresh. */
export interface Flight<T> {
  refresh: boolean;
  promise: Promise<T>;
}

/**
 * The operations in progress in this process, at most one per key: later callers join the
 * running one instead of starting their own.
 */
export class Flights<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** The operation running for `key`, if any. */
  get(key: string): Flight<T> | undefined {
    return this.#flights.get(key);
  }

  /** Starts `run` as the operation of `key`; it leaves the table before it settles. */
  start(key: string, refresh: boolean, run: () => Promise<T>): Flight<T> {
    const flight: Flight<T> = { refresh, promise: Promise.resolve(undefined as never) };
    flight.promise = (async () => {
      try {
        return await run();
      } finally {
        // Before the promise settles, so that nobody joins a finished (or failed) flight.
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      }
    })();
    this.#flights.set(key, flight);
    return flight;
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
