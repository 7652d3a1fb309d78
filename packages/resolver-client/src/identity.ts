/**
 * What names one episode for the resolver. `provider` is optional: without it the resolver picks
 * one. Two identities are the same exactly when their {@link identityKey}s are equal.
 *
 * @example
 * ```ts
 * const identity: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };
 * ```
 */
export interface EpisodeIdentity {
  site: string;
  slug: string;
  season: number;
  episode: number;
  language: string;
  provider?: string;
}

/**
 * Throws a `TypeError` naming the first field of `identity` that is not valid: `site`, `slug` and
 * `language` non-empty strings, `season` and `episode` non-negative safe integers, `provider`
 * absent or a non-empty string.
 *
 * @example
 * ```ts
 * assertEpisodeIdentity({ site: 'aniworld.to', slug: 'frieren', season: -1, episode: 3, language: 'German Dub' });
 * // TypeError: identity.season must be a non-negative integer; received -1
 * ```
 */
export function assertEpisodeIdentity(identity: unknown, name = 'identity'): asserts identity is EpisodeIdentity {
  const problem = episodeIdentityProblem(identity);
  if (problem !== undefined) {
    throw new TypeError(`${problem.field === '' ? name : `${name}.${problem.field}`} ${problem.expected}; received ${problem.received}`);
  }
}

/** @internal The first invalid field of an identity-like record, or undefined. */
export function episodeIdentityProblem(value: unknown): FieldProblem | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { field: '', expected: 'must be an object', received: describeValue(value) };
  }
  const record = value as Record<string, unknown>;
  for (const field of ['site', 'slug', 'language'] as const) {
    const v = record[field];
    if (typeof v !== 'string' || v === '') return { field, expected: 'must be a non-empty string', received: describeValue(v) };
  }
  for (const field of ['season', 'episode'] as const) {
    const v = record[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      return { field, expected: 'must be a non-negative integer', received: describeValue(v) };
    }
  }
  const provider = record['provider'];
  if (provider !== undefined && (typeof provider !== 'string' || provider === '')) {
    return { field: 'provider', expected: 'must be absent or a non-empty string', received: describeValue(provider) };
  }
  return undefined;
}

/**
 * The cache key of an identity: a JSON array of its six fields in a fixed order (`null` for an
 * absent provider). JSON quoting makes it unambiguous (no value can imitate a separator) and
 * independent of the property order of the object. Throws a `TypeError` for an invalid identity.
 *
 * @example
 * ```ts
 * identityKey({ site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' });
 * // '["aniworld.to","frieren",1,3,"German Dub",null]'
 * ```
 */
export function identityKey(identity: EpisodeIdentity): string {
  assertEpisodeIdentity(identity);
  const { site, slug, season, episode, language, provider } = identity;
  return JSON.stringify([site, slug, season, episode, language, provider ?? null]);
}

/**
 * @internal The identity a key of {@link identityKey} was made from, or undefined for any other
 * string (the client's `refresh:` records, a key of someone else's).
 */
export function identityFromKey(key: string): EpisodeIdentity | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 6) return undefined;
  const [site, slug, season, episode, language, provider] = fields as unknown[];
  const identity = { site, slug, season, episode, language, ...(provider === null ? {} : { provider }) };
  if (episodeIdentityProblem(identity) !== undefined) return undefined;
  const valid = identity as EpisodeIdentity;
  // Only a key this module would make maps back (no second spelling of the same identity).
  return identityKey(valid) === key ? valid : undefined;
}

/** @internal A copy holding only the identity fields (no provider key when it is absent). */
export function copyIdentity(identity: EpisodeIdentity): EpisodeIdentity {
  const { site, slug, season, episode, language, provider } = identity;
  return provider === undefined ? { site, slug, season, episode, language } : { site, slug, season, episode, language, provider };
}

/** @internal Which field is wrong, what it should be, and a safe description of what it is. */
export interface FieldProblem {
  field: string;
  expected: string;
  received: string;
}

/**
 * @internal A description of a value for an error message: its type, and for short plain
 * values (numbers, booleans, strings up to 40 characters) the value itself. Callers must not use
 * it for values that may be secret (URLs, header values).
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return String(value);
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    default:
      return `a value of type ${typeof value}`;
  }
}
