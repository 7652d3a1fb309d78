/**
 * Sets `key` as the newest entry of `map` and forgets the oldest entries past `max`: the proxy's
 * small per-process memories (target durations, rendition links, relocated playlists) are all
 * bounded this way, least recently set first out.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
}
