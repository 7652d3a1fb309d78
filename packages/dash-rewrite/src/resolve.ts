/**
 * Resolves a reference against a base per RFC 3986 (WHATWG URL parser); `undefined` when it does
 * not parse or its scheme is not http(s) (`urn:`, `data:`), which a proxy cannot fetch.
 */
export function resolveHttpUrl(reference: string, base: string): string | undefined {
  let url: URL;
  try {
    url = new URL(reference, base);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

/**
 * The fixed directory of an absolute URL that may hold `SegmentTemplate` identifiers: everything
 * up to the last `/` of the path before the first `$`, `?` or `#`. A player appends the expanded
 * rest to it, so a proxy can seal this prefix and resolve what comes back against it.
 * `undefined` when the URL is not absolute http(s) or an identifier sits in the authority.
 *
 * @example
 * ```ts
 * templateDirectory('https://cdn.test/v/$RepresentationID$/seg-$Number%05d$.m4s'); // 'https://cdn.test/v/'
 * templateDirectory('https://cdn.test/v/init.mp4?token=a/b');                     // 'https://cdn.test/v/'
 * templateDirectory('https://cdn.test');                                           // 'https://cdn.test/'
 * ```
 */
export function templateDirectory(href: string): string | undefined {
  const scheme = href.startsWith('https://') ? 8 : href.startsWith('http://') ? 7 : 0;
  if (scheme === 0) return undefined;
  let end = href.length;
  for (const stop of ['$', '?', '#']) {
    const at = href.indexOf(stop, scheme);
    if (at !== -1 && at < end) end = at;
  }
  const pathStart = href.indexOf('/', scheme);
  if (pathStart === -1 || pathStart > end) {
    // No path before the identifiers or the query: only an authority, which must be whole.
    if (end !== href.length && href[end] === '$') return undefined;
    return `${href.slice(0, end)}/`;
  }
  return href.slice(0, href.lastIndexOf('/', end - 1) + 1);
}

/** Characters a relative path keeps through the WHATWG URL parser: unreserved, and the sub-delimiters but `'`, `@` and `/`. */
function isPlainPathCode(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) ||
    code === 45 || code === 46 || code === 95 || code === 126 || code === 47 || code === 33 || code === 36 ||
    code === 38 || code === 40 || code === 41 || code === 42 || code === 43 || code === 44 || code === 59 || code === 61 || code === 64
  );
}

/** Characters a query keeps through the parser (special schemes): the path's, and `? : % /`. */
function isPlainQueryCode(code: number): boolean {
  return isPlainPathCode(code) || code === 63 || code === 58 || code === 37;
}

/**
 * Whether RFC 3986 resolution of `reference` against an http(s) base is plain concatenation with
 * the base's directory, and the URL parser would leave the result as it is: a relative path
 * (not starting with `/` or `?`) without `.`/`..` segments, `%`, `:` or other characters the
 * parser encodes, then an optional query of the same kind, no fragment. Nearly every URL of a
 * large manifest (`seg-000123.m4s?token=…`) is one; `new URL` is most of the cost otherwise.
 */
export function isPlainRelativePath(reference: string): boolean {
  const first = reference.charCodeAt(0);
  if (reference.length === 0 || first === 47 || first === 63) return false;
  let segmentStart = 0;
  let index = 0;
  for (; index < reference.length; index++) {
    const code = reference.charCodeAt(index);
    if (code === 63 /* ? */) break;
    if (code === 47 /* / */) {
      if (isDotSegment(reference, segmentStart, index)) return false;
      segmentStart = index + 1;
    } else if (!isPlainPathCode(code)) return false;
  }
  if (isDotSegment(reference, segmentStart, index)) return false;
  for (index++; index < reference.length; index++) if (!isPlainQueryCode(reference.charCodeAt(index))) return false;
  return true;
}

function isDotSegment(text: string, start: number, end: number): boolean {
  if (end - start === 1) return text.charCodeAt(start) === 46;
  return end - start === 2 && text.charCodeAt(start) === 46 && text.charCodeAt(start + 1) === 46;
}

/** The directory of an absolute http(s) URL as the parser wrote it: up to the last `/` before the query. */
export function directoryOf(href: string): string {
  let end = href.length;
  const query = href.indexOf('?');
  if (query !== -1) end = query;
  const fragment = href.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  return href.slice(0, href.lastIndexOf('/', end - 1) + 1);
}
