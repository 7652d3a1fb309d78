/**
 * The version of the key layout and value format. A change to either bumps it, so that replicas
 * of two versions sharing one Redis during a rolling upgrade never read each other's values.
 */
const LAYOUT_VERSION = 'v1';

/**
 * The Redis names of one store: `<prefix>:v1:res:<key>` for values, `<prefix>:v1:lock:<key>` for
 * the single-flight lock, and the pub/sub channel `<prefix>:v1:done:<key>` on which the holder
 * announces that it is done.
 *
 * @example
 * ```ts
 * const names = redisKeyNames('strm');
 * names.value('["aniworld.to","frieren",1,3,"German Dub",null]');
 * // 'strm:v1:res:["aniworld.to","frieren",1,3,"German Dub",null]'
 * names.lock('k'); // 'strm:v1:lock:k'
 * names.channel('k'); // 'strm:v1:done:k'
 * ```
 */
export function redisKeyNames(prefix: string): { value(key: string): string; lock(key: string): string; channel(key: string): string } {
  const base = `${prefix}:${LAYOUT_VERSION}:`;
  return {
    value: (key) => `${base}res:${key}`,
    lock: (key) => `${base}lock:${key}`,
    channel: (key) => `${base}done:${key}`,
  };
}
