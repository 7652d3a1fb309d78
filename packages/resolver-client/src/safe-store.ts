import type { ResolutionStore, StoredResolution } from './store';

/** A failure of the store, for the client's `store-error` event. */
export interface StoreFailure {
  key: string;
  operation: 'get' | 'set' | 'delete' | 'coordinate';
  error: unknown;
}

/**
 * The store as the client uses it: a cache, so its failures are reported and resolving goes on
 * without it (a failed `get` is a miss, a failed `set` or `delete` is skipped).
 */
export class SafeStore {
  readonly #store: ResolutionStore;
  readonly #report: (failure: StoreFailure) => void;

  constructor(store: ResolutionStore, report: (failure: StoreFailure) => void) {
    this.#store = store;
    this.#report = report;
  }

  /** Whether the store coordinates across processes (`coordinate`). */
  get coordinates(): boolean {
    return this.#store.coordinate !== undefined;
  }

  async get(key: string): Promise<StoredResolution | undefined> {
    try {
      return await this.#store.get(key);
    } catch (error) {
      this.#report({ key, operation: 'get', error });
      return undefined;
    }
  }

  async set(key: string, value: StoredResolution, ttlMs: number | undefined): Promise<void> {
    try {
      await this.#store.set(key, value, ttlMs);
    } catch (error) {
      this.#report({ key, operation: 'set', error });
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (error) {
      this.#report({ key, operation: 'delete', error });
    }
  }

  /**
   * Runs `run` under the store's cross-process coordination (or directly, without one).
   * Coordination is an optimisation, never a condition: if the store fails to coordinate, `run`
   * still runs (once).
   */
  async coordinated<T>(key: string, run: () => Promise<T>): Promise<T> {
    const store = this.#store;
    if (store.coordinate === undefined) return run();
    let ran: Promise<T> | undefined;
    const runOnce = () => (ran ??= run());
    try {
      const outcome = await store.coordinate(key, runOnce);
      return ran === undefined ? await runOnce() : outcome;
    } catch (error) {
      if (ran === undefined) this.#report({ key, operation: 'coordinate', error });
      // After `run` started, its own result (or error) is the answer, whatever the store threw.
      return await runOnce();
    }
  }
}
