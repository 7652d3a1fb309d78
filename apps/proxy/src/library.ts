import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EpisodeIdentity } from '@strm/resolver-client';
import { signedEntryUrl } from '@strm/signing';
import { parseJsonText } from './json-text';

/** One episode of a library list: the identity an entry URL names, and the show's display name. */
export interface LibraryEpisode extends EpisodeIdentity {
  /** The folder and file name of the show; from the slug when the list has none. */
  show: string;
}

/** A list of episodes that cannot be read, with where (file, line or entry) and why. */
export class LibraryListError extends Error {
  readonly code = 'STRM_LIBRARY_BAD_LIST' as const;
  constructor(message: string) {
    super(message);
    this.name = 'LibraryListError';
  }
}

/** The file, relative to the output folder, in which the library keeps what it wrote. */
const LIBRARY_MANIFEST = '.strm-library.json';

const DEFAULT_SITE = 'aniworld.to';
// Windows refuses these names with any extension; the other rules below cover the rest.
const RESERVED_NAMES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/**
 * A file or folder name every filesystem takes (ext4, NTFS, exFAT, SMB shares): no `/ \ : * ? " < > |`
 * or control characters, no leading or trailing dots and spaces, no reserved Windows device name,
 * at most 200 bytes of UTF-8 (room for the ` S01E03 - German Dub.strm` that follows a show name).
 *
 * @example
 * sanitizeName('Re:Zero / Starting Life?') // 'Re-Zero - Starting Life'
 * sanitizeName('...') // '_'
 */
export function sanitizeName(name: string): string {
  let clean = name
    .normalize('NFC')
    .replace(/[\t\n\r]/g, ' ')
    .replace(/\p{Cc}/gu, '')
    .replace(/\s*[/\\|]\s*/g, ' - ')
    .replace(/:\s*/g, '-')
    .replace(/[*?"<>]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  while (Buffer.byteLength(clean) > 200) clean = Array.from(clean).slice(0, -1).join('').replace(/[\s.]+$/g, '');
  if (clean === '') return '_';
  return RESERVED_NAMES.test(clean) ? `${clean}_` : clean;
}

/** `frieren-beyond-journeys-end` → `Frieren Beyond Journeys End`. */
export function showNameFromSlug(slug: string): string {
  return slug.split(/[-_\s]+/).filter(Boolean).map((word) => word[0]!.toUpperCase() + word.slice(1)).join(' ');
}

const pad = (value: number) => String(value).padStart(2, '0');

/**
 * Where an episode goes, in the naming Jellyfin, Emby and Plex read: `<Show>/Season 01/<Show> S01E03.strm`,
 * specials (season 0) in `Season 00`. `variant` tells apart episodes that share a number (two languages).
 */
export function libraryPath(episode: LibraryEpisode, variant?: string): string {
  const show = sanitizeName(episode.show);
  const name = `${show} S${pad(episode.season)}E${pad(episode.episode)}${variant ? ` - ${variant}` : ''}`;
  return join(show, `Season ${pad(episode.season)}`, `${sanitizeName(name)}.strm`);
}

function field(record: Record<string, unknown>, names: readonly string[]): unknown {
  for (const name of names) if (record[name] !== undefined && record[name] !== '') return record[name];
  return undefined;
}

/** Checks one record (a JSON object or a CSV row by header); `where` names it in errors. */
function episodeFromRecord(record: Record<string, unknown>, where: string): LibraryEpisode {
  const text = (names: readonly string[], required: boolean): string | undefined => {
    const value = field(record, names);
    if (value === undefined) {
      if (required) throw new LibraryListError(`${where}: ${names[0]} is missing`);
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') throw new LibraryListError(`${where}: ${names[0]} must be a non-empty string`);
    return value.trim();
  };
  const whole = (names: readonly string[]): number => {
    const value = field(record, names);
    if (value === undefined) throw new LibraryListError(`${where}: ${names[0]} is missing`);
    const number = typeof value === 'string' && /^\d{1,6}$/.test(value.trim()) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 999_999) {
      throw new LibraryListError(`${where}: ${names[0]} must be a whole number from 0, got ${JSON.stringify(value)}`);
    }
    return number;
  };
  const slug = text(['slug'], true)!;
  const provider = text(['provider'], false);
  return {
    site: text(['site'], false) ?? DEFAULT_SITE,
    slug,
    season: whole(['season', 's']),
    episode: whole(['episode', 'e']),
    language: text(['language', 'lang'], true)!,
    ...(provider !== undefined ? { provider } : {}),
    show: text(['show', 'title'], false) ?? showNameFromSlug(slug),
  };
}

/** Splits CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into rows with their line numbers. */
function csvRows(text: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line += 1;
        cell += char;
      }
    } else if (char === '"' && cell === '') quoted = true;
    else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      cells.push(cell);
      if (cells.some((value) => value.trim() !== '')) rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line += 1;
      rowLine = line;
    } else cell += char;
  }
  if (quoted) throw new LibraryListError(`line ${rowLine}: a quoted field is not closed`);
  cells.push(cell);
  if (cells.some((value) => value.trim() !== '')) rows.push({ line: rowLine, cells });
  return rows;
}

/**
 * Reads a list of episodes: CSV with a header row (`slug,season,episode,language` and optional
 * `site`, `provider`, `show`), or JSON (an array of episodes, `{"episodes": [...]}`, or a static
 * resolver file `{"entries": [...]}`, whose `url` and `headers` are ignored). Errors name the
 * file and the line (CSV, JSON syntax) or the entry.
 */
export function readEpisodeList(path: string): LibraryEpisode[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LibraryListError(`${path} could not be read (${(error as { code?: string }).code ?? 'unknown error'})`);
  }
  if (/\.csv$/i.test(path) || !/^\s*[[{]/.test(text.replace(/^\uFEFF/, ''))) {
    const [header, ...rows] = csvRows(text.replace(/^\uFEFF/, ''));
    if (header === undefined) throw new LibraryListError(`${path} is empty`);
    const names = header.cells.map((name) => name.trim().toLowerCase());
    if (!names.includes('slug')) throw new LibraryListError(`${path}: the first line must name the columns (slug,season,episode,language[,site,provider,show])`);
    return rows.map((row) => episodeFromRecord(Object.fromEntries(names.map((name, index) => [name, row.cells[index]?.trim() ?? ''])), `${path} line ${row.line}`));
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new LibraryListError(`${path} is not valid JSON: ${parsed.problem.message}`);
  const document = parsed.value as Record<string, unknown> | unknown[] | null;
  const list = Array.isArray(document) ? document : document?.['episodes'] ?? document?.['entries'];
  if (!Array.isArray(list)) throw new LibraryListError(`${path}: expected an array of episodes, {"episodes": [...]} or a resolver file {"entries": [...]}`);
  return list.map((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new LibraryListError(`${path} entry ${index}: must be an object`);
    return episodeFromRecord(item as Record<string, unknown>, `${path} entry ${index}`);
  });
}

/** One `.strm` file the library should hold. */
export interface PlannedFile {
  path: string;
  content: string;
}

const identityKey = (episode: LibraryEpisode) => JSON.stringify([episode.site, episode.slug, episode.season, episode.episode, episode.language, episode.provider ?? '']);

/**
 * The files of a library: one per distinct episode identity, holding its signed entry URL. When
 * several identities share a show, season and episode (two languages, two providers), each file
 * name says which one it is (`Frieren S01E03 - German Dub.strm`).
 */
export function planLibrary(episodes: readonly LibraryEpisode[], options: { baseUrl: string; secret: string }): PlannedFile[] {
  const distinct = new Map<string, LibraryEpisode>();
  for (const episode of episodes) if (!distinct.has(identityKey(episode))) distinct.set(identityKey(episode), episode);
  const byPath = new Map<string, LibraryEpisode[]>();
  for (const episode of distinct.values()) {
    const path = libraryPath(episode);
    byPath.set(path, [...(byPath.get(path) ?? []), episode]);
  }
  const streamUrl = new URL('strm/stream', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`).href;
  const files: PlannedFile[] = [];
  for (const group of byPath.values()) {
    const languages = new Set(group.map((episode) => episode.language));
    for (const episode of group) {
      const variant = group.length === 1 ? undefined : [languages.size > 1 ? episode.language : '', episode.provider ?? ''].filter(Boolean).join(' ') || episode.language;
      const url = signedEntryUrl(
        streamUrl,
        { site: episode.site, slug: episode.slug, s: episode.season, e: episode.episode, lang: episode.language, provider: episode.provider },
        options.secret,
      );
      files.push({ path: libraryPath(episode, variant), content: `${url}\n` });
    }
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

export type LibraryAction = 'create' | 'update' | 'unchanged' | 'conflict' | 'overwrite';

const digest = (content: string) => createHash('sha256').update(content).digest('hex');

function readManifest(outDir: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(join(outDir, LIBRARY_MANIFEST), 'utf8')) as { written?: Record<string, string> };
    return parsed.written ?? {};
  } catch {
    return {};
  }
}

/**
 * What writing the plan would do to each file: a file that exists is `unchanged` when it already
 * holds the URL, `update` when this command wrote it (its digest is in the manifest) and it was
 * not edited since, else a `conflict`, which `force` turns into `overwrite`.
 */
export function compareLibrary(plan: readonly PlannedFile[], outDir: string, force: boolean): Array<PlannedFile & { action: LibraryAction }> {
  const manifest = readManifest(outDir);
  return plan.map((file) => {
    let current: string | undefined;
    try {
      current = readFileSync(join(outDir, file.path), 'utf8');
    } catch {
      current = undefined;
    }
    const action: LibraryAction = current === undefined
      ? 'create'
      : current === file.content ? 'unchanged'
        : manifest[file.path] === digest(current) ? 'update'
          : force ? 'overwrite' : 'conflict';
    return { ...file, action };
  });
}

/** Writes the files of a compared plan (conflicts excepted) and records them in the manifest. */
export function writeLibrary(compared: ReadonlyArray<PlannedFile & { action: LibraryAction }>, outDir: string): void {
  const manifest = readManifest(outDir);
  for (const file of compared) {
    if (file.action === 'conflict') continue;
    if (file.action !== 'unchanged') {
      const target = join(outDir, file.path);
      mkdirSync(dirname(target), { recursive: true });
      // Written aside and renamed, so a media server scanning the folder never reads half a URL.
      writeFileSync(`${target}.partial`, file.content);
      renameSync(`${target}.partial`, target);
    }
    manifest[file.path] = digest(file.content);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, LIBRARY_MANIFEST), `${JSON.stringify({ written: manifest }, null, 2)}\n`);
}
