/**
 * Query parameters in any of the shapes a caller tends to have at hand: a plain record (values
 * `undefined` are left out, numbers must be safe integers), a `URLSearchParams`, or any iterable of
 * `[name, value]` string pairs (a `Map`, an array). Repeated names are kept, each pair on its own.
 *
 * @example
 * ```ts
 * const a: ParamInput = { site: 'aniworld.to', s: 1, provider: undefined };
 * const b: ParamInput = new URL('http://nas:8080/strm/stream?s=1&e=3').searchParams;
 * const c: ParamInput = [['e', '3'], ['e', '4']];
 * ```
 */
export type ParamInput =
  | Record<string, string | number | undefined>
  | URLSearchParams
  | Iterable<readonly [string, string]>;

/**
 * A parameter name paired with its value, both as text.
 *
 * @example
 * ```ts
 * const pair: ParamPair = ['lang', 'German Dub'];
 * ```
 */
export type ParamPair = readonly [name: string, value: string];

const SIGNATURE_PARAM = 'sig';
// With the `u` flag a well-formed surrogate pair is one code point, so this only finds lone halves.
const LONE_SURROGATE = /\p{Cs}/u;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** Text with a lone surrogate: a TypeError for callers, a `malformed` request for verifyParams. */
export class IllFormedTextError extends TypeError {}

function checkText(value: string, what: string): string {
  // Python's quote_plus refuses lone surrogates (UTF-8 cannot encode them), and silently replacing
  // them with U+FFFD would let two different strings share one signature.
  if (LONE_SURROGATE.test(value)) {
    throw new IllFormedTextError(`${what} must be well-formed Unicode; received a string with a lone surrogate`);
  }
  return value;
}

/**
 * Turns any {@link ParamInput} into a list of text pairs, in input order.
 *
 * Throws a `TypeError` for a value that is neither a string nor a safe integer, for a pair that is
 * not two strings, and for strings with lone surrogates (they have no UTF-8 form).
 *
 * @example
 * ```ts
 * toParamPairs({ s: 1, e: 3, provider: undefined });
 * // [['s', '1'], ['e', '3']]
 * ```
 */
export function toParamPairs(params: ParamInput): ParamPair[] {
  if (params === null || typeof params !== 'object') {
    throw new TypeError(`params must be a record, a URLSearchParams or an iterable of pairs; received ${describe(params)}`);
  }
  const pairs: ParamPair[] = [];
  if (Symbol.iterator in params) {
    for (const entry of params as Iterable<unknown>) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
        throw new TypeError(`each parameter pair must be [name, value] with two strings; received ${describe(entry)}`);
      }
      pairs.push([checkText(entry[0], 'a parameter name'), checkText(entry[1], `parameter ${describe(entry[0])}`)]);
    }
    return pairs;
  }
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    checkText(name, 'a parameter name');
    if (typeof value === 'string') {
      pairs.push([name, checkText(value, `parameter ${describe(name)}`)]);
    } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
      // Only integers: their decimal form is the same in JavaScript and Python, unlike 1e21 or 1e-7.
      pairs.push([name, String(value)]);
    } else {
      throw new TypeError(`parameter ${describe(name)} must be a string or a safe integer; received ${describe(value)}`);
    }
  }
  return pairs;
}

/**
 * Encodes one name or value like Python's `urllib.parse.quote_plus(text, safe='')`: `A-Z a-z 0-9
 * _ . - ~` stay, a space becomes `+`, every other character becomes its UTF-8 bytes as `%XX` with
 * uppercase hex.
 *
 * @example
 * ```ts
 * quotePlus('a~b*c (d)/é'); // 'a~b%2Ac+%28d%29%2F%C3%A9'
 * ```
 */
export function quotePlus(text: string): string {
  // encodeURIComponent already leaves exactly the unreserved set plus `! ' ( ) *`, with uppercase
  // hex; those five are escaped here and `%20` becomes `+`.
  return encodeURIComponent(checkText(text, 'the text to encode')).replace(/[!'()*]|%20/g, (match) =>
    match === '%20' ? '+' : `%${match.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

// Python compares strings by code point; JavaScript's `<` compares UTF-16 code units, which puts
// astral characters (emoji) before U+E000–U+FFFF. Iterating by code point restores Python's order.
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const dx = x.value.codePointAt(0)!;
    const dy = y.value.codePointAt(0)!;
    if (dx !== dy) return dx - dy;
  }
}

/**
 * Sorts pairs by name, then by value, comparing Unicode code points like Python's `sorted`.
 *
 * @example
 * ```ts
 * sortParamPairs([['s', '1'], ['e', '3'], ['e', '10']]);
 * // [['e', '10'], ['e', '3'], ['s', '1']]
 * ```
 */
export function sortParamPairs(pairs: readonly ParamPair[]): ParamPair[] {
  return [...pairs].sort((a, b) => compareCodePoints(a[0], b[0]) || compareCodePoints(a[1], b[1]));
}

/**
 * The text that an entry URL's `sig` authenticates: every parameter except `sig`, sorted by name
 * then value (code point order), each name and value encoded with {@link quotePlus}, joined as
 * `name=value` with `&`. It equals Python's
 * `urllib.parse.urlencode(sorted(pairs))`, which is what AniBridge signs.
 *
 * @example
 * ```ts
 * canonicalQuery({ site: 'aniworld.to', slug: 'a~b*c (d)/é', s: 0, e: 12, lang: 'English Sub' });
 * // 'e=12&lang=English+Sub&s=0&site=aniworld.to&slug=a~b%2Ac+%28d%29%2F%C3%A9'
 * ```
 */
export function canonicalQuery(params: ParamInput): string {
  return canonicalOf(toParamPairs(params));
}

/** {@link canonicalQuery} for pairs that were already checked by {@link toParamPairs}. */
export function canonicalOf(pairs: readonly ParamPair[]): string {
  return sortParamPairs(pairs.filter(([name]) => name !== SIGNATURE_PARAM))
    .map(([name, value]) => `${quotePlus(name)}=${quotePlus(value)}`)
    .join('&');
}
