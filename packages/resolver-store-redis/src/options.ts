import type { RedisStoreOptions } from './store';

/** @internal The options with their defaults applied. */
export interface RedisStoreSettings {
  url: string;
  prefix: string;
  commandTimeoutMs: number;
  lockTtlMs: number;
  pollIntervalMs: number;
  maxWaitMs: number;
  probeIntervalMs: number;
  localMaxEntries: number;
  onStateChange: RedisStoreOptions['onStateChange'];
  onFallback: RedisStoreOptions['onFallback'];
}

function positiveInteger(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`options.${option} must be a positive integer; received ${typeof value === 'number' ? String(value) : typeof value}`);
  }
  return value;
}

function optionalFunction<T>(value: T | undefined, option: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`options.${option} must be a function; received a value of type ${typeof value}`);
  }
  return value;
}

/**
 * @internal `host:port` of a Redis URL, for messages: the URL itself may carry a password.
 */
export function describeTarget(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`;
}

/** @internal Validates every option once, naming the option and what it received. */
export function checkOptions(options: RedisStoreOptions): RedisStoreSettings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object; received ${options === null ? 'null' : typeof options}`);
  }
  const { url } = options;
  let valid = false;
  if (typeof url === 'string') {
    try {
      const parsed = new URL(url);
      valid = (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') && parsed.hostname !== '';
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    // Never the value: a Redis URL may carry a password.
    const received = typeof url === 'string' ? `a string of ${url.length} characters` : typeof url;
    throw new TypeError(`options.url must be a redis:// or rediss:// URL with a host; received ${received}`);
  }
  const prefix = options.prefix ?? 'strm';
  if (typeof prefix !== 'string' || prefix === '' || /[\s]/.test(prefix)) {
    throw new TypeError(`options.prefix must be a non-empty string without spaces; received ${typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 40)) : typeof prefix}`);
  }
  const lockTtlMs = positiveInteger(options.lockTtlMs, 'lockTtlMs', 5000);
  if (lockTtlMs < 30) throw new TypeError(`options.lockTtlMs must be at least 30 (it is renewed every third of it); received ${lockTtlMs}`);
  return {
    url: url as string,
    prefix,
    commandTimeoutMs: positiveInteger(options.commandTimeoutMs, 'commandTimeoutMs', 500),
    lockTtlMs,
    pollIntervalMs: positiveInteger(options.pollIntervalMs, 'pollIntervalMs', 250),
    maxWaitMs: positiveInteger(options.maxWaitMs, 'maxWaitMs', 15_000),
    probeIntervalMs: positiveInteger(options.probeIntervalMs, 'probeIntervalMs', 1000),
    localMaxEntries: positiveInteger(options.localMaxEntries, 'localMaxEntries', 10_000),
    onStateChange: optionalFunction(options.onStateChange, 'onStateChange'),
    onFallback: optionalFunction(options.onFallback, 'onFallback'),
  };
}
