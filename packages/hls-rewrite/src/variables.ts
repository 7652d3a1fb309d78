import { HlsRewriteError, preview } from './errors';

/** RFC 8216bis §4.4.2.3: a Variable Name is made of `[a-z]`, `[A-Z]`, `[0-9]`, `-` and `_`. */
const VARIABLE_NAME = /^[A-Za-z0-9_-]+$/;

function isNameCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 95;
}

/** What one `EXT-X-DEFINE` declares, read from its attributes. */
export type Definition =
  | { form: 'NAME'; name: string; value: string }
  | { form: 'IMPORT'; name: string }
  | { form: 'QUERYPARAM'; name: string };

/** The attributes of an `EXT-X-DEFINE` that matter, as raw text (undefined when absent). */
export interface DefineAttributes {
  NAME?: string;
  VALUE?: string;
  IMPORT?: string;
  QUERYPARAM?: string;
}

function badVariable(line: number, message: string): HlsRewriteError {
  return new HlsRewriteError('HLS_BAD_VARIABLE', `line ${line}: ${message}`);
}

/**
 * Checks the form of one `EXT-X-DEFINE` (RFC 8216bis §4.4.2.3): exactly one of NAME, IMPORT and
 * QUERYPARAM, VALUE with NAME, a name of the allowed characters. Anything else is a playlist a
 * client MUST fail to parse.
 */
export function readDefinition(attributes: DefineAttributes, line: number): Definition {
  const forms = (['NAME', 'IMPORT', 'QUERYPARAM'] as const).filter((form) => attributes[form] !== undefined);
  if (forms.length !== 1) {
    throw badVariable(line, `EXT-X-DEFINE must hold exactly one of NAME, IMPORT and QUERYPARAM (RFC 8216bis 4.4.2.3), received ${forms.length === 0 ? 'none' : forms.join(' and ')}`);
  }
  const form = forms[0]!;
  const name = attributes[form]!;
  if (!VARIABLE_NAME.test(name)) {
    throw badVariable(line, `EXT-X-DEFINE ${form} ${preview(name)} is not a variable name: expected only A-Z, a-z, 0-9, "-" and "_" (RFC 8216bis 4.4.2.3)`);
  }
  if (form !== 'NAME') return { form, name };
  if (attributes.VALUE === undefined) throw badVariable(line, `EXT-X-DEFINE NAME ${preview(name)} has no VALUE, which RFC 8216bis 4.4.2.3 requires`);
  return { form, name, value: attributes.VALUE };
}

/**
 * The value of the query parameter `name` in a playlist's URL, percent-decoded, for
 * `EXT-X-DEFINE:QUERYPARAM` (RFC 8216bis §4.4.2.3): the first occurrence that has a value (`name=`
 * is an empty value; a bare `name` has none). Only percent-decoding is applied, as the RFC says
 * (`+` stays `+`). Missing, undecodable or holding LF, CR or `"`: the playlist is invalid.
 *
 * @example
 * queryParameterValue(new URL('https://cdn.test/a.m3u8?token=a%2Bb'), 'token', 2) // 'a+b'
 */
export function queryParameterValue(url: URL, name: string, line: number): string {
  const query = url.search.slice(1);
  let bare = false;
  for (const pair of query === '' ? [] : query.split('&')) {
    const equals = pair.indexOf('=');
    const key = equals === -1 ? pair : pair.slice(0, equals);
    if (safeDecode(key) !== name) continue;
    if (equals === -1) {
      bare = true;
      continue;
    }
    const value = safeDecode(pair.slice(equals + 1));
    if (value === undefined) throw badVariable(line, `EXT-X-DEFINE QUERYPARAM ${preview(name)}: the query parameter's value is not valid percent-encoded UTF-8`);
    if (/[\r\n"]/.test(value)) {
      throw badVariable(line, `EXT-X-DEFINE QUERYPARAM ${preview(name)}: the decoded value holds a line break or a double quote, which RFC 8216bis 4.4.2.3 forbids`);
    }
    return value;
  }
  throw badVariable(
    line,
    `EXT-X-DEFINE QUERYPARAM ${preview(name)}: the playlist's URL has ${bare ? 'that query parameter without a value' : 'no such query parameter'}, so a client MUST fail to parse the playlist (RFC 8216bis 4.4.2.3)`,
  );
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The value an `EXT-X-DEFINE:IMPORT` takes from the multivariant playlist's variables; a playlist
 * not loaded from a multivariant playlist, or a name it does not define, is invalid.
 */
export function importedValue(imports: ReadonlyMap<string, string> | undefined, name: string, line: number): string {
  if (imports === undefined) {
    throw badVariable(line, `EXT-X-DEFINE IMPORT ${preview(name)} in a playlist that was not loaded from a multivariant playlist: a client MUST fail to parse it (RFC 8216bis 4.4.2.3)`);
  }
  const value = imports.get(name);
  if (value === undefined) {
    throw badVariable(line, `EXT-X-DEFINE IMPORT ${preview(name)}: the multivariant playlist defines no such variable, so a client MUST fail to parse this playlist (RFC 8216bis 4.4.2.3)`);
  }
  return value;
}

/** The imports option as a map, checked once: names and values must be what a playlist could define. */
export function importsMap(imports: Readonly<Record<string, string>> | ReadonlyMap<string, string> | undefined): ReadonlyMap<string, string> | undefined {
  if (imports === undefined) return undefined;
  if (typeof imports !== 'object' || imports === null) throw new TypeError(`options.imports must be an object or a Map of variables, received ${String(imports)}`);
  const map = new Map(imports instanceof Map ? imports : Object.entries(imports));
  for (const [name, value] of map) {
    if (typeof name !== 'string' || !VARIABLE_NAME.test(name) || typeof value !== 'string' || /[\r\n"]/.test(value)) {
      throw new TypeError(`options.imports must map variable names (A-Z a-z 0-9 - _) to strings without CR, LF or '"', received ${preview(String(name))}`);
    }
  }
  return map;
}

/**
 * Limits a caller puts on a substitution, checked before the text is built: `reference` is called
 * for each reference, `length` with the length the result is about to reach. Both throw to stop.
 */
export interface SubstitutionGuard {
  reference(): void;
  length(total: number): void;
}

/**
 * Replaces every Variable Reference (`{$name}`, RFC 8216bis §4.3) in `text` by its value, in one
 * pass (values are not substituted again). A reference to a variable that no preceding
 * `EXT-X-DEFINE` provided is a parsing error (§6.3.1). `{$` not followed by a name and `}` is text.
 *
 * @example
 * substituteVariables('{$host}/seg.ts', new Map([['host', 'https://b.test']]), 4) // 'https://b.test/seg.ts'
 */
export function substituteVariables(text: string, variables: ReadonlyMap<string, string> | undefined, line: number, guard?: SubstitutionGuard): string {
  let result = '';
  let from = 0;
  let open = text.indexOf('{$');
  while (open !== -1) {
    let close = open + 2;
    while (close < text.length && isNameCode(text.charCodeAt(close))) close++;
    if (close > open + 2 && text.charCodeAt(close) === 125 /* } */) {
      const name = text.slice(open + 2, close);
      const value = variables?.get(name);
      if (value === undefined) {
        throw badVariable(line, `${preview(text)} refers to the variable ${preview(name)}, which no EXT-X-DEFINE before it provides: a client MUST fail to parse the playlist (RFC 8216bis 6.3.1)`);
      }
      guard?.reference();
      guard?.length(result.length + open - from + value.length);
      result += text.slice(from, open) + value;
      from = close + 1;
      open = text.indexOf('{$', from);
    } else {
      open = text.indexOf('{$', open + 2);
    }
  }
  return from === 0 ? text : result + text.slice(from);
}
