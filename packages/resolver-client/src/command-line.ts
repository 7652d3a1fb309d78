import type { EpisodeIdentity } from './identity';

/**
 * The placeholders a command line may hold, each replaced inside argv entries by the identity's
 * value (`{provider}` by an empty string when the caller asked for none).
 */
export const COMMAND_PLACEHOLDERS = ['site', 'slug', 'season', 'episode', 'language', 'provider'] as const;

/** One placeholder name. */
export type CommandPlaceholder = (typeof COMMAND_PLACEHOLDERS)[number];

// Only `{word}` is a placeholder: JSON or shell-looking braces (`{"a":1}`, `${x}`) stay text.
const PLACEHOLDER = /\{([a-z_]+)\}/g;

/**
 * Splits a command line into argv entries the way the `STRM_RESOLVER_COMMAND` variable is
 * documented: on spaces and tabs, with double quotes grouping (`"German Dub"` is one entry, the
 * quotes removed; `--lang="{language}"` is `--lang={language}`; `""` is an empty entry). Nothing
 * else is special: no shell runs, so `$`, `;`, `|`, `*`, backslashes and single quotes are plain
 * characters. Unknown `{placeholders}` are refused here, so a typo fails at start-up and not at
 * the first resolution. Throws a `TypeError` for an empty line, an unterminated quote or an
 * unknown placeholder.
 *
 * @example
 * ```ts
 * parseCommandLine('/opt/resolve --slug {slug} -s {season} --lang "{language}"');
 * // ['/opt/resolve', '--slug', '{slug}', '-s', '{season}', '--lang', '{language}']
 * ```
 */
export function parseCommandLine(text: string): string[] {
  if (typeof text !== 'string') throw new TypeError(`command line must be a string; received a value of type ${typeof text}`);
  const argv: string[] = [];
  let current = '';
  let inEntry = false;
  let quoteStart = -1;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoteStart >= 0) {
      if (char === '"') quoteStart = -1;
      else current += char;
    } else if (char === '"') {
      quoteStart = i;
      inEntry = true;
    } else if (char === ' ' || char === '\t' || char === '\n' || char === '\r') {
      if (inEntry) argv.push(current);
      current = '';
      inEntry = false;
    } else {
      current += char;
      inEntry = true;
    }
  }
  if (quoteStart >= 0) throw new TypeError(`command line has a double quote at character ${quoteStart + 1} that is never closed`);
  if (inEntry) argv.push(current);
  if (argv.length === 0 || argv[0] === '') throw new TypeError('command line must name a program; received an empty line');
  for (const entry of argv) {
    const shellVariable = /\$\{([A-Za-z_]+)\}/.exec(entry);
    if (shellVariable !== null) {
      const placeholder = shellVariable[1]!.toLowerCase().replace(/^strm_/, '');
      const hint = (COMMAND_PLACEHOLDERS as readonly string[]).includes(placeholder) ? `write {${placeholder}}` : 'use a {placeholder} or read the variable in the program';
      throw new TypeError(`command line has \${${shellVariable[1]}}: no shell runs, so nothing expands $ variables; ${hint}`);
    }
    for (const [, name] of entry.matchAll(PLACEHOLDER)) {
      if (!(COMMAND_PLACEHOLDERS as readonly string[]).includes(name!)) {
        throw new TypeError(`command line has an unknown placeholder {${name}}; known: ${COMMAND_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
      }
    }
  }
  return argv;
}

/** The text each placeholder stands for, for one identity. */
function placeholderValues(identity: EpisodeIdentity): Record<CommandPlaceholder, string> {
  return {
    site: identity.site,
    slug: identity.slug,
    season: String(identity.season),
    episode: String(identity.episode),
    language: identity.language,
    provider: identity.provider ?? '',
  };
}

/**
 * Replaces the `{placeholders}` inside each argv entry by the identity's values. Every entry
 * stays one entry whatever the value holds (spaces, quotes, `$(…)`, `;`): the result goes to
 * the program as argv, never through a shell. Unknown placeholders are left as they are
 * ({@link parseCommandLine} refuses them earlier).
 *
 * @example
 * ```ts
 * expandCommandArguments(['/opt/resolve', '--slug', '{slug}', '--lang={language}'],
 *   { site: 'aniworld.to', slug: '$(reboot)', season: 1, episode: 3, language: 'German Dub' });
 * // ['/opt/resolve', '--slug', '$(reboot)', '--lang=German Dub']
 * ```
 */
export function expandCommandArguments(argv: readonly string[], identity: EpisodeIdentity): string[] {
  const values = placeholderValues(identity);
  return argv.map((entry) =>
    entry.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as CommandPlaceholder] : whole)),
  );
}

/**
 * The identity as the environment variables a resolver command receives: `STRM_SITE`,
 * `STRM_SLUG`, `STRM_SEASON`, `STRM_EPISODE`, `STRM_LANGUAGE`, `STRM_PROVIDER` (empty when
 * none was asked for) and `STRM_REFRESH` (`1` when the previous URL failed, else `0`).
 *
 * @example
 * ```ts
 * commandEnvironment({ site: 's.to', slug: '9-1-1', season: 1, episode: 2, language: 'German Dub' }, true);
 * // { STRM_SITE: 's.to', STRM_SLUG: '9-1-1', STRM_SEASON: '1', STRM_EPISODE: '2',
 * //   STRM_LANGUAGE: 'German Dub', STRM_PROVIDER: '', STRM_REFRESH: '1' }
 * ```
 */
export function commandEnvironment(identity: EpisodeIdentity, refresh: boolean): Record<string, string> {
  const values = placeholderValues(identity);
  return {
    STRM_SITE: values.site,
    STRM_SLUG: values.slug,
    STRM_SEASON: values.season,
    STRM_EPISODE: values.episode,
    STRM_LANGUAGE: values.language,
    STRM_PROVIDER: values.provider,
    STRM_REFRESH: refresh ? '1' : '0',
  };
}
