/**
 * Whether `reference` is a relative-path reference whose RFC 3986 resolution against an http(s) base
 * is plain concatenation with the base's directory: no scheme, no leading `/` or `?`, no `.`/`..`
 * segments, no fragment, and only characters that the WHATWG URL parser leaves as they are (path: no
 * `%` or `:`; query: no `'`). Such references (`seg-001.ts?token=…`) are nearly every URI of a
 * large playlist, and skipping the URL parser for them is most of the rewrite's speed. Anything
 * else goes through `new URL`.
 */
export function isPlainRelativeReference(reference: string): boolean {
  const first = reference.charCodeAt(0);
  if (reference.length === 0 || first === 47 /* / */ || first === 63 /* ? */) return false;
  return isPlainPathAndQuery(reference, 0);
}

/**
 * Whether `reference` is an absolute http(s) URL that the WHATWG URL parser returns unchanged:
 * lower-case scheme and host name (not an IPv4 number, which the parser rewrites), no user info,
 * no default port, a path from `/` with the characters and segments of
 * {@link isPlainRelativeReference}, no fragment. CDN playlists that list every segment as an
 * absolute URL with a token take this path instead of `new URL`.
 */
export function isNormalizedHttpUrl(reference: string): boolean {
  let index: number;
  if (reference.startsWith('https://')) index = 8;
  else if (reference.startsWith('http://')) index = 7;
  else return false;
  const defaultPort = index === 8 ? '443' : '80';
  const hostStart = index;
  let labelStart = index;
  for (; index < reference.length; index++) {
    const code = reference.charCodeAt(index);
    if ((code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45) continue;
    if (code !== 46 /* . */) break;
    if (index === labelStart) return false;
    labelStart = index + 1;
  }
  if (index === hostStart || index === labelStart) return false;
  const lastLabelFirst = reference.charCodeAt(labelStart);
  if (lastLabelFirst >= 48 && lastLabelFirst <= 57) return false;
  if (reference.charCodeAt(index) === 58 /* : */) {
    const portStart = index + 1;
    index = portStart;
    while (index < reference.length && reference.charCodeAt(index) >= 48 && reference.charCodeAt(index) <= 57) index++;
    const port = reference.slice(portStart, index);
    if (port === '' || port.length > 5 || port.charCodeAt(0) === 48 || Number(port) > 65535 || port === defaultPort) return false;
  }
  return reference.charCodeAt(index) === 47 && isPlainPathAndQuery(reference, index + 1);
}

/** Path segments from `from` on (a segment starts there), then an optional plain query. */
function isPlainPathAndQuery(reference: string, from: number): boolean {
  let segmentStart = from;
  for (let index = from; index < reference.length; index++) {
    const code = reference.charCodeAt(index);
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 45 || code === 95 || code === 126 || code === 46) {
      continue;
    }
    if (code === 47 || code === 63) {
      if (isDotSegment(reference, segmentStart, index)) return false;
      if (code === 63) return isPlainQuery(reference, index + 1);
      segmentStart = index + 1;
      continue;
    }
    // ! $ & ( ) * + , ; = @
    if (code === 33 || code === 36 || code === 38 || (code >= 40 && code <= 44) || code === 59 || code === 61 || code === 64) continue;
    return false;
  }
  return !isDotSegment(reference, segmentStart, reference.length);
}

function isDotSegment(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 1) return text.charCodeAt(start) === 46;
  return length === 2 && text.charCodeAt(start) === 46 && text.charCodeAt(start + 1) === 46;
}

function isPlainQuery(text: string, from: number): boolean {
  for (let index = from; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57)) continue;
    // - . _ ~ ! $ % & ( ) * + , / : ; = ? @
    if (
      code === 45 || code === 46 || code === 95 || code === 126 || code === 33 || code === 36 || code === 37 || code === 38 ||
      (code >= 40 && code <= 44) || code === 47 || code === 58 || code === 59 || code === 61 || code === 63 || code === 64
    ) {
      continue;
    }
    return false;
  }
  return true;
}
