import { readFile } from 'node:fs/promises';
import { ResolverError } from './errors';
import { assertEpisodeIdentity, describeValue, episodeIdentityProblem, identityKey, type EpisodeIdentity, type FieldProblem } from './identity';
import { copyResolution, resolutionFromRecord, type Resolution, type ResolutionSource } from './resolution';
import { describeIdentity } from './http-source';

/**
 * One episode of a static resolver: the identity fields, where it plays (`url`, absolute http(s))
 * and the request headers the upstream needs. An entry without `provider` serves every provider.
 *
 * @example
 * ```ts
 * const entry: StaticEntry = {
 *   site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub',
 *   url: 'http://127.0.0.1:8081/frieren/s1e3/master.m3u8', headers: { Referer: 'http://127.0.0.1:8081/' },
 * };
 * ```
 */
export interface StaticEntry extends EpisodeIdentity {
  url: string;
  headers?: Record<string, string>;
}

/** A problem of one entry of a static list. */
interface EntryProblem extends FieldProblem {
  index: number;
}

interface EpisodeEntries {
  /** The first entry of the episode in list order: the answer when no provider is asked for. */
  first: Resolution;
  byProvider: Map<string, Resolution>;
  anyProvider?: Resolution;
}

function entryProblem(value: unknown, index: number): EntryProblem | { identity: EpisodeIdentity; resolution: Resolution } {
  const identity = episodeIdentityProblem(value);
  if (identity !== undefined) return { index, ...identity };
  const record = value as Record<string, unknown>;
  const checked = resolutionFromRecord(record, { expiresAt: false });
  if (!('resolution' in checked)) return { index, ...checked };
  const provider = record['provider'] as string | undefined;
  const { site, slug, season, episode, language } = record as unknown as EpisodeIdentity;
  return { identity: provider === undefined ? { site, slug, season, episode, language } : { site, slug, season, episode, language, provider }, resolution: checked.resolution };
}

/** Validates and indexes a list of entries, or returns the first problem. */
function indexEntries(entries: unknown): Map<string, EpisodeEntries> | EntryProblem {
  if (!Array.isArray(entries)) {
    return { index: -1, field: '', expected: 'must be an array of entries', received: describeValue(entries) };
  }
  const episodes = new Map<string, EpisodeEntries>();
  const firstIndexOf = new Map<string, number>();
  for (const [index, value] of entries.entries()) {
    const checked = entryProblem(value, index);
    if ('index' in checked) return checked;
    const { identity, resolution } = checked;
    const exactKey = identityKey(identity);
    const earlier = firstIndexOf.get(exactKey);
    if (earlier !== undefined) {
      return { index, field: 'provider', expected: `must make the entry unique; entries[${earlier}] has the same episode and provider`, received: describeValue(identity.provider) };
    }
    firstIndexOf.set(exactKey, index);
    const episodeKey = identityKey({ ...identity, provider: undefined });
    let slot = episodes.get(episodeKey);
    if (slot === undefined) {
      slot = { first: resolution, byProvider: new Map() };
      episodes.set(episodeKey, slot);
    }
    if (identity.provider === undefined) slot.anyProvider = resolution;
    else slot.byProvider.set(identity.provider, resolution);
  }
  return episodes;
}

function problemText(problem: EntryProblem): string {
  const where = problem.index < 0 ? 'entries' : `entries[${problem.index}]${problem.field === '' ? '' : `.${problem.field}`}`;
  return `${where} ${problem.expected}; received ${problem.received}`;
}

function sourceOf(episodes: Map<string, EpisodeEntries>): ResolutionSource {
  return {
    async resolve(identity) {
      assertEpisodeIdentity(identity);
      const slot = episodes.get(identityKey({ ...identity, provider: undefined }));
      const found = slot === undefined
        ? undefined
        : identity.provider === undefined
          ? slot.first
          : (slot.byProvider.get(identity.provider) ?? slot.anyProvider);
      if (found === undefined) {
        throw new ResolverError('STRM_RESOLVER_NOT_FOUND', `static resolver: no entry for ${describeIdentity(identity)}`);
      }
      return copyResolution(found);
    },
  };
}

/**
 * A {@link ResolutionSource} answering from a fixed list (for demos and tests). The list is
 * checked here: a bad entry throws a `TypeError` naming its index and field. Lookups match site,
 * slug, season, episode and language exactly. A request with a provider gets the entry for that
 * provider, else the entry without provider; a request without provider gets the episode's first
 * entry. No match is `STRM_RESOLVER_NOT_FOUND`. `refresh` changes nothing.
 *
 * @example
 * ```ts
 * const source = createStaticResolverSource([
 *   { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub', provider: 'VOE', url: 'https://cdn.example/voe.m3u8' },
 *   { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub', url: 'https://cdn.example/any.mp4' },
 * ]);
 * await source.resolve({ site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub', provider: 'Filemoon' }, { refresh: false });
 * // { url: 'https://cdn.example/any.mp4', headers: {} }
 * ```
 */
export function createStaticResolverSource(entries: readonly StaticEntry[]): ResolutionSource {
  const indexed = indexEntries(entries);
  if (!(indexed instanceof Map)) throw new TypeError(`static resolver: ${problemText(indexed)}`);
  return sourceOf(indexed);
}

/**
 * Reads a static resolver file: JSON, either `{ "entries": [ … ] }` or a bare array of
 * {@link StaticEntry} objects. A file that cannot be read, is not JSON or holds a bad entry
 * rejects with `STRM_RESOLVER_BAD_FILE`, naming the file, the entry index and the field.
 *
 * @example
 * ```ts
 * const source = await loadStaticResolverFile('./resolver.json');
 * // a bad file:
 * // ResolverError [STRM_RESOLVER_BAD_FILE]: static resolver file ./resolver.json: entries[1].url must be an absolute http(s) URL; received a URL with scheme "ftp:"
 * ```
 */
export async function loadStaticResolverFile(path: string): Promise<ResolutionSource> {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`path must be a non-empty string; received ${describeValue(path)}`);
  }
  const what = `static resolver file ${path}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ResolverError('STRM_RESOLVER_BAD_FILE', `${what} could not be read${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // No cause: the parser's message quotes the file, whose URLs may carry tokens.
    throw new ResolverError('STRM_RESOLVER_BAD_FILE', `${what} is not valid JSON; expected {"entries": [...]} or an array of entries`);
  }
  const entries = Array.isArray(document)
    ? document
    : typeof document === 'object' && document !== null
      ? (document as Record<string, unknown>)['entries']
      : document;
  const indexed = indexEntries(entries);
  if (!(indexed instanceof Map)) throw new ResolverError('STRM_RESOLVER_BAD_FILE', `${what}: ${problemText(indexed)}`);
  return sourceOf(indexed);
}
