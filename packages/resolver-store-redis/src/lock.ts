import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisHealth } from './health';
import type { redisKeyNames } from './keys';
import type { RedisStoreSettings } from './options';
import type { WakeUps } from './wake-ups';

// Deletes the lock only if this holder still owns it, then tells the waiters.
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], '1')
  return 1
end
return 0`;

// Extends the lock only if this holder still owns it.
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;

/**
 * Cross-replica single-flight: a lock per key (`SET <lock> <token> NX PX lockTtlMs`, renewed
 * while its holder runs, released with a "done" message on the key's channel). Waiters wake on
 * that message, on a poll, or when Redis goes down; after `maxWaitMs`, or without Redis, they run
 * without the lock: playback matters more than saving a resolver call.
 */
export class RedisLock {
  readonly #settings: RedisStoreSettings;
  readonly #names: ReturnType<typeof redisKeyNames>;
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #health: RedisHealth;
  readonly #wakeUps: WakeUps;
  readonly #subscriptions = new Map<string, number>();

  constructor(settings: RedisStoreSettings, parts: { names: ReturnType<typeof redisKeyNames>; client: Redis; subscriber: Redis; health: RedisHealth; wakeUps: WakeUps }) {
    this.#settings = settings;
    this.#names = parts.names;
    this.#client = parts.client;
    this.#subscriber = parts.subscriber;
    this.#health = parts.health;
    this.#wakeUps = parts.wakeUps;
    parts.subscriber.on('error', () => {
      // Reconnects on its own (and resubscribes); waiters poll meanwhile.
    });
    parts.subscriber.on('message', (channel: string) => this.#wakeUps.wake(channel));
  }

  /** Runs `run` holding the key's lock, or without it when Redis cannot give it. */
  async coordinate<T>(key: string, run: () => Promise<T>): Promise<T> {
    const health = this.#health;
    if (health.state === 'up') {
      const token = randomUUID();
      let outcome: 'acquired' | 'unavailable';
      try {
        outcome = (await this.#acquire(this.#names.lock(key), token)) ? 'acquired' : await this.#waitForLock(key, token);
      } catch (error) {
        health.markDown(error);
        outcome = 'unavailable';
      }
      if (outcome === 'acquired') return this.#holdWhile(key, token, run);
    }
    // Without Redis (or after waiting maxWaitMs) this replica resolves on its own.
    health.fallback('coordinate');
    return run();
  }

  async #subscribe(channel: string): Promise<void> {
    const count = this.#subscriptions.get(channel) ?? 0;
    this.#subscriptions.set(channel, count + 1);
    if (count === 0) await this.#health.timed(this.#subscriber.subscribe(channel), 'SUBSCRIBE').catch(() => undefined);
  }

  #unsubscribe(channel: string): void {
    const count = (this.#subscriptions.get(channel) ?? 1) - 1;
    if (count > 0) {
      this.#subscriptions.set(channel, count);
      return;
    }
    this.#subscriptions.delete(channel);
    this.#subscriber.unsubscribe(channel).catch(() => undefined);
  }

  async #acquire(lockKey: string, token: string): Promise<boolean> {
    return (await this.#health.timed(this.#client.set(lockKey, token, 'PX', this.#settings.lockTtlMs, 'NX'), 'SET NX')) === 'OK';
  }

  /** Waits for the lock until it is acquired, Redis goes down, or `maxWaitMs` passes. */
  async #waitForLock(key: string, token: string): Promise<'acquired' | 'unavailable'> {
    const lockKey = this.#names.lock(key);
    const channel = this.#names.channel(key);
    const deadline = performance.now() + this.#settings.maxWaitMs;
    await this.#subscribe(channel);
    try {
      for (;;) {
        if (this.#health.state !== 'up' || this.#health.closed) return 'unavailable';
        const left = deadline - performance.now();
        if (left <= 0) return 'unavailable';
        if (await this.#tryOnceAndWait(lockKey, token, channel, Math.min(this.#settings.pollIntervalMs, left))) return 'acquired';
      }
    } catch (error) {
      this.#health.markDown(error);
      return 'unavailable';
    } finally {
      this.#unsubscribe(channel);
    }
  }

  /** One attempt at the lock; when it is taken, waits for a wake-up. True once acquired. */
  async #tryOnceAndWait(lockKey: string, token: string, channel: string, waitMs: number): Promise<boolean> {
    const wakeUp = this.#wakeUps.arm(channel, waitMs);
    // Tried again once subscribed: a release published before the subscription is not missed.
    let acquired: boolean;
    try {
      acquired = await this.#acquire(lockKey, token);
    } catch (error) {
      wakeUp.disarm();
      throw error;
    }
    if (acquired) {
      wakeUp.disarm();
      return true;
    }
    await wakeUp.woken;
    return false;
  }

  async #holdWhile<T>(key: string, token: string, run: () => Promise<T>): Promise<T> {
    const lockKey = this.#names.lock(key);
    const { lockTtlMs } = this.#settings;
    const health = this.#health;
    const renewal = setInterval(() => {
      health.timed(this.#client.eval(RENEW_SCRIPT, 1, lockKey, token, String(lockTtlMs)), 'lock renewal').catch((error: unknown) => health.markDown(error));
    }, Math.max(1, Math.floor(lockTtlMs / 3)));
    renewal.unref();
    try {
      return await run();
    } finally {
      clearInterval(renewal);
      if (health.state === 'up') {
        // A failed release is harmless for correctness: the lock expires on its own.
        await health.timed(this.#client.eval(RELEASE_SCRIPT, 1, lockKey, token, this.#names.channel(key)), 'lock release').catch((error: unknown) => health.markDown(error));
      }
    }
  }
}
