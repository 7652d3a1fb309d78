/** The five entities XML predefines (XML 1.0 §4.6); a manifest with others declares them in a DTD. */
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function referenceValue(body: string): string | undefined {
  if (body.charCodeAt(0) !== 35 /* # */) return Object.hasOwn(PREDEFINED, body) ? PREDEFINED[body] : undefined;
  const hex = body.charCodeAt(1) === 120 /* x */;
  const digits = body.slice(hex ? 2 : 1);
  if (digits === '' || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return undefined;
  const code = Number.parseInt(digits, hex ? 16 : 10);
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
  // XML 1.0 Char: tab, LF, CR and everything from space up (surrogates excluded above).
  if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return undefined;
  return String.fromCodePoint(code);
}

/**
 * Replaces character and predefined entity references; `undefined` when the text holds a
 * reference to an undeclared entity or a bare `&` (its meaning cannot be known here).
 */
function decodeReferences(raw: string): string | undefined {
  let ampersand = raw.indexOf('&');
  if (ampersand === -1) return raw;
  let decoded = '';
  let from = 0;
  while (ampersand !== -1) {
    const semicolon = raw.indexOf(';', ampersand + 1);
    if (semicolon === -1) return undefined;
    const value = referenceValue(raw.slice(ampersand + 1, semicolon));
    if (value === undefined) return undefined;
    decoded += raw.slice(from, ampersand) + value;
    from = semicolon + 1;
    ampersand = raw.indexOf('&', from);
  }
  return decoded + raw.slice(from);
}

/**
 * The value of an attribute as XML defines it (§3.3.3): references decoded, and each literal tab,
 * CR or LF read as a space (a reference to them stays what it says).
 */
export function decodeAttributeValue(raw: string): string | undefined {
  return decodeReferences(/[\t\r\n]/.test(raw) ? raw.replace(/[\t\r\n]/g, ' ') : raw);
}

/**
 * The character data of an element's content: text with references decoded, CDATA sections
 * taken as they are, comments and processing instructions skipped. `undefined` when a reference
 * cannot be decoded or the content holds an element.
 */
export function decodeContent(raw: string): string | undefined {
  let value = '';
  let index = 0;
  while (index < raw.length) {
    const open = raw.indexOf('<', index);
    const text = decodeReferences(raw.slice(index, open === -1 ? raw.length : open));
    if (text === undefined) return undefined;
    value += text;
    if (open === -1) break;
    if (raw.startsWith('<![CDATA[', open)) {
      const close = raw.indexOf(']]>', open + 9);
      value += raw.slice(open + 9, close);
      index = close + 3;
    } else if (raw.startsWith('<!--', open)) {
      index = raw.indexOf('-->', open + 4) + 3;
    } else if (raw.startsWith('<?', open)) {
      index = raw.indexOf('?>', open + 2) + 2;
    } else {
      return undefined;
    }
  }
  return value;
}

const ATTRIBUTE_SPECIALS = /[&<"'\t\n\r]/;
const ATTRIBUTE_SPECIALS_ALL = /[&<"'\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;', '"': '&quot;', "'": '&apos;' };

function escapeInDoubleQuotes(char: string): string {
  return char === "'" ? char : ESCAPES[char]!;
}

function escapeInSingleQuotes(char: string): string {
  return char === '"' ? char : ESCAPES[char]!;
}

/**
 * Escapes text for an attribute delimited by `quote`: `&`, `<` and the quote, and tab, CR, LF as
 * character references so that attribute normalization gives them back.
 */
export function encodeAttributeValue(text: string, quote: '"' | "'"): string {
  if (!ATTRIBUTE_SPECIALS.test(text)) return text;
  return text.replace(ATTRIBUTE_SPECIALS_ALL, quote === '"' ? escapeInDoubleQuotes : escapeInSingleQuotes);
}

const CONTENT_SPECIALS = /[&<>\r]/;
const CONTENT_SPECIALS_ALL = /[&<>\r]/g;

function escapeInContent(char: string): string {
  return ESCAPES[char]!;
}

/** Escapes text for element content: `&`, `<`, and `>` (which would end a `]]>`). CR as a reference, since parsers turn a literal one into LF. */
export function encodeContent(text: string): string {
  return CONTENT_SPECIALS.test(text) ? text.replace(CONTENT_SPECIALS_ALL, escapeInContent) : text;
}
