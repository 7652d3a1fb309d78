import { createMemoryStore, type ResolutionStore } from '@strm/resolver-client';
import type { Redis } from 'ioredis';
import { RedisStoreError } from './errors';
import type { RedisStoreSettings } from './options';
import type { RedisStoreOperation, RedisStoreState, RedisStoreStateChange } from './store';
import type { WakeUps } from './wake-ups';

/**
 * Whether Redis can be used, and what serves while it cannot: every command runs with the
 * store's deadline; a failure turns the store `down` (reported once), wakes every waiter, and
 * starts a probe; a probe that gets an answer turns it `up` again. While `down`, a local
 * in-memory cache serves (it is cleared when Redis returns: Redis is the truth again).
 */
export class RedisHealth {
  state: RedisStoreState = 'connecting';
  closed = false;
  /** The cache that serves while Redis does not (filled by every `set`). */
  local: ResolutionStore;

  readonly #settings: RedisStoreSettings;
  readonly #target: string;
  readonly #client: Redis;
  readonly #wakeUps: WakeUps;
  #lastConnectionError: unknown;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(settings: RedisStoreSettings, connection: { client: Redis; target: string; wakeUps: WakeUps }) {
    this.#settings = settings;
    this.#client = connection.client;
    this.#target = connection.target;
    this.#wakeUps = connection.wakeUps;
    this.local = this.#newLocalCache();
    this.#watch(connection.client);
  }

  #newLocalCache(): ResolutionStore {
    return createMemoryStore({ maxEntries: this.#settings.localMaxEntries });
  }

  #watch(client: Redis): void {
    client.on('error', (error: unknown) => {
      this.#lastConnectionError = error;
    });
    client.on('ready', () => void this.#probe());
    client.on('close', () => {
      const last = this.#lastConnectionError;
      const detail = last instanceof Error ? `: ${last.message.slice(0, 200)}` : '';
      this.markDown(new RedisStoreError('STRM_REDIS_UNAVAILABLE', `connection to Redis at ${this.#target} lost${detail}`, { cause: last }));
    });
  }

  /** Counts an operation served without Redis. */
  fallback(operation: RedisStoreOperation): void {
    try {
      this.#settings.onFallback?.(operation);
    } catch {
      // Metrics never break resolving.
    }
  }

  #report(change: RedisStoreStateChange): void {
    try {
      this.#settings.onStateChange?.(change);
    } catch {
      // A logging hook must not decide whether an episode plays.
    }
  }

  markDown(error: unknown): void {
    if (this.closed || this.state === 'down') return;
    this.state = 'down';
    this.#report({ state: 'down', error: this.#toStoreError(error, 'command') });
    // Waiters stop waiting for a lock nobody can see any more and resolve on their own.
    this.#wakeUps.wakeAll();
    this.#probeTimer ??= setInterval(() => void this.#probe(), this.#settings.probeIntervalMs);
    this.#probeTimer.unref();
  }

  #markUp(): void {
    if (this.closed || this.state === 'up') return;
    this.state = 'up';
    if (this.#probeTimer !== undefined) clearInterval(this.#probeTimer);
    this.#probeTimer = undefined;
    // What was cached locally during the outage was never shared; Redis is the truth again.
    this.local = this.#newLocalCache();
    this.#report({ state: 'up' });
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.closed || this.#client.status !== 'ready') return;
    this.#probing = true;
    try {
      await this.timed(this.#client.ping(), 'PING');
      this.#markUp();
    } catch (error) {
      this.markDown(error);
    } finally {
      this.#probing = false;
    }
  }

  #toStoreError(error: unknown, operation: string): RedisStoreError {
    if (error instanceof RedisStoreError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new RedisStoreError('STRM_REDIS_UNAVAILABLE', `Redis at ${this.#target} failed ${operation}: ${detail.slice(0, 200)}`, { cause: error });
  }

  /** One command with the store's deadline; failures become a {@link RedisStoreError}. */
  timed<T>(command: Promise<T>, operation: string): Promise<T> {
    const { commandTimeoutMs } = this.#settings;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RedisStoreError('STRM_REDIS_TIMEOUT', `Redis at ${this.#target} did not answer ${operation} within ${commandTimeoutMs} ms`));
      }, commandTimeoutMs);
      command.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(this.#toStoreError(error, operation));
        },
      );
    });
  }

  /** Stops probing and wakes every waiter; the store is `down` for good. */
  close(): void {
    this.closed = true;
    this.state = 'down';
    if (this.#probeTimer !== undefined) clearInterval(this.#probeTimer);
    this.#wakeUps.wakeAll();
  }
}
