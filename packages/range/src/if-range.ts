import { assertHeader, quote, trimOws } from './syntax';

/**
 * The request's `If-Range` and the selected representation's validators.
 *
 * @example
 * const input: IfRangeInput = { ifRange: '"xyzzy"', etag: '"xyzzy"' };
 */
export interface IfRangeInput {
  /** The request's `If-Range` value; `undefined`/`null` when the request has none. */
  ifRange: string | undefined | null;
  /** The representation's current `ETag`. */
  etag?: string | null;
  /** The representation's current `Last-Modified`. */
  lastModified?: string | null;
}

interface EntityTag {
  weak: boolean;
  opaque: string;
}

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
function parseEntityTag(text: string): EntityTag | undefined {
  const { start, end } = trimOws(text);
  let i = start;
  const weak = text.startsWith('W/', i);
  if (weak) i += 2;
  if (end - i < 2 || text.charCodeAt(i) !== 0x22 || text.charCodeAt(end - 1) !== 0x22) return undefined;
  for (let k = i + 1; k < end - 1; k++) {
    const code = text.charCodeAt(k);
    if (!(code === 0x21 || (code >= 0x23 && code <= 0x7e) || (code >= 0x80 && code <= 0xff))) return undefined;
  }
  return { weak, opaque: text.slice(i + 1, end - 1) };
}

interface HttpDate {
  year: number;
  /** rfc850-date carries two digits of the year only. */
  twoDigitYear: boolean;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
// RFC 9110 §5.6.7: the three forms a recipient must accept; names are case-sensitive.
const IMF_FIXDATE = new RegExp(`^(${DAYS.join('|')}), (\\d{2}) (${MONTHS}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);
const RFC850_DATE = new RegExp(`^(${LONG_DAYS.join('|')}), (\\d{2})-(${MONTHS})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);
const ASCTIME_DATE = new RegExp(`^(${DAYS.join('|')}) (${MONTHS}) (\\d{2}| \\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`);

function weekday(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return date.getUTCDay();
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month + 1, 0);
  return date.getUTCDate();
}

function parseHttpDate(text: string): HttpDate | undefined {
  const { start, end } = trimOws(text);
  const value = text.slice(start, end);
  let dayName: string;
  let date: HttpDate;
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, name, day, month, year, hour, minute, second] = match as unknown as string[];
    dayName = name as string;
    date = { year: Number(year), twoDigitYear: false, month: MONTHS.indexOf(month as string) / 4, day: Number(day), hour: Number(hour), minute: Number(minute), second: Number(second) };
  } else if ((match = RFC850_DATE.exec(value))) {
    const [, name, day, month, year, hour, minute, second] = match as unknown as string[];
    dayName = (name as string).slice(0, 3);
    date = { year: Number(year), twoDigitYear: true, month: MONTHS.indexOf(month as string) / 4, day: Number(day), hour: Number(hour), minute: Number(minute), second: Number(second) };
  } else if ((match = ASCTIME_DATE.exec(value))) {
    const [, name, month, day, hour, minute, second, year] = match as unknown as string[];
    dayName = name as string;
    date = { year: Number(year), twoDigitYear: false, month: MONTHS.indexOf(month as string) / 4, day: Number((day as string).trim()), hour: Number(hour), minute: Number(minute), second: Number(second) };
  } else {
    return undefined;
  }
  // second may be 60 (a leap second, RFC 9110 §5.6.7).
  if (date.hour > 23 || date.minute > 59 || date.second > 60) return undefined;
  // The century of an rfc850 year is unknown here, so its day count and weekday are checked only
  // against the years that fit; a four-digit year is checked exactly.
  const year = date.twoDigitYear ? 1900 + date.year : date.year;
  if (date.day < 1 || date.day > (date.twoDigitYear ? Math.max(daysInMonth(year, date.month), daysInMonth(year + 100, date.month)) : daysInMonth(year, date.month))) {
    return undefined;
  }
  if (!date.twoDigitYear && DAYS[weekday(date.year, date.month, date.day)] !== dayName) return undefined;
  return date;
}

function sameDate(a: HttpDate, b: HttpDate): boolean {
  const sameYear = a.twoDigitYear || b.twoDigitYear ? a.year % 100 === b.year % 100 : a.year === b.year;
  return sameYear && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

/**
 * Evaluates `If-Range` (RFC 9110 §13.1.5): `true` means apply the Range (answer 206 or 416),
 * `false` means ignore it and send the whole representation (200).
 *
 * - No `If-Range` (`undefined`/`null`): `true`.
 * - An entity-tag matches only by strong comparison: both tags strong and identical. A weak tag,
 *   on either side, never matches.
 * - An HTTP-date (any of the three forms of §5.6.7) matches only when it denotes exactly the
 *   same second as `Last-Modified`; earlier or later dates do not.
 * - Anything else (an empty value, a malformed tag or date, a missing validator): `false`, the
 *   safe answer, since sending the whole representation is never wrong.
 *
 * @throws {TypeError} when `input` is not an object or a field is not a string, undefined or null.
 * @example
 * evaluateIfRange({ ifRange: '"xyzzy"', etag: '"xyzzy"' });   // true
 * evaluateIfRange({ ifRange: 'W/"xyzzy"', etag: 'W/"xyzzy"' }); // false (weak)
 * evaluateIfRange({ ifRange: 'Sun, 06 Nov 1994 08:49:37 GMT', lastModified: 'Sun, 06 Nov 1994 08:49:37 GMT' }); // true
 * evaluateIfRange({ ifRange: 'Sun, 06 Nov 1994 08:49:38 GMT', lastModified: 'Sun, 06 Nov 1994 08:49:37 GMT' }); // false
 * evaluateIfRange({ ifRange: undefined });                      // true
 */
export function evaluateIfRange(input: IfRangeInput): boolean {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(`input must be an object { ifRange, etag?, lastModified? }; received ${quote(input)}`);
  }
  const { ifRange, etag, lastModified } = input;
  assertHeader(ifRange, 'input.ifRange');
  assertHeader(etag, 'input.etag');
  assertHeader(lastModified, 'input.lastModified');
  if (ifRange === undefined || ifRange === null) return true;

  // A DQUOTE within the first three characters tells an entity-tag from a date (§13.1.5).
  const { start } = trimOws(ifRange);
  if (ifRange.charCodeAt(start) === 0x22 || ifRange.startsWith('W/"', start)) {
    const wanted = parseEntityTag(ifRange);
    if (wanted === undefined || wanted.weak || etag === undefined || etag === null) return false;
    const current = parseEntityTag(etag);
    return current !== undefined && !current.weak && current.opaque === wanted.opaque;
  }
  const wanted = parseHttpDate(ifRange);
  if (wanted === undefined || lastModified === undefined || lastModified === null) return false;
  const current = parseHttpDate(lastModified);
  return current !== undefined && sameDate(wanted, current);
}
