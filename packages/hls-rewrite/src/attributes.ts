/**
 * One attribute of an attribute list, as offsets into the scanned text (no copies):
 * the name is `[nameStart, nameEnd)`, the value `[valueStart, valueEnd)` without its quotes.
 */
export interface AttributeSpan {
  nameStart: number;
  nameEnd: number;
  valueStart: number;
  valueEnd: number;
  quoted: boolean;
}

/**
 * The attributes of an RFC 8216bis §4.2 attribute list in `text[from, end)`, in order.
 * A quoted-string runs to the next `"` (so it keeps commas); an unquoted value runs to the next `,`.
 * A quoted-string without its closing quote stops the scan: `unterminatedAt` then holds the offset
 * of its opening quote, and the attributes before it are still returned.
 * Every loop is bounded by `end` and moves forward, so the scan is linear in the line.
 *
 * @example
 * ```ts
 * const line = 'METHOD=AES-128,URI="k?a=1,2",IV=0x1';
 * const { attributes } = scanAttributeList(line, 0, line.length);
 * attributes.map((a) => line.slice(a.nameStart, a.nameEnd)); // ['METHOD', 'URI', 'IV']
 * ```
 */
export function scanAttributeList(
  text: string,
  from: number,
  end: number,
): { attributes: AttributeSpan[]; unterminatedAt: number | undefined } {
  const attributes: AttributeSpan[] = [];
  let position = from;
  while (position < end) {
    const nameStart = position;
    let cursor = position;
    let code = 0;
    while (cursor < end) {
      code = text.charCodeAt(cursor);
      if (code === 61 /* = */ || code === 44 /* , */) break;
      cursor++;
    }
    if (cursor >= end) break;
    if (code === 44) {
      // A name without a value: not an attribute; skip it like an unknown one.
      position = cursor + 1;
      continue;
    }
    const nameEnd = cursor;
    const valueBegin = cursor + 1;
    if (valueBegin < end && text.charCodeAt(valueBegin) === 34 /* " */) {
      let close = valueBegin + 1;
      while (close < end && text.charCodeAt(close) !== 34) close++;
      if (close >= end) return { attributes, unterminatedAt: valueBegin };
      attributes.push({ nameStart, nameEnd, valueStart: valueBegin + 1, valueEnd: close, quoted: true });
      // Anything between the closing quote and the next comma is malformed and skipped.
      let next = close + 1;
      while (next < end && text.charCodeAt(next) !== 44) next++;
      position = next + 1;
    } else {
      let next = valueBegin;
      while (next < end && text.charCodeAt(next) !== 44) next++;
      attributes.push({ nameStart, nameEnd, valueStart: valueBegin, valueEnd: next, quoted: false });
      position = next + 1;
    }
  }
  return { attributes, unterminatedAt: undefined };
}
