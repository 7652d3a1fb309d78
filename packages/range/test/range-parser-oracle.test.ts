// range-parser (jshttp, what Express and send use) as an oracle: a property test where the two
// agree by design, and a table of every deliberate difference (the README lists the same ones).
import fc from 'fast-check';
import rangeParser from 'range-parser';
import { describe, expect, it } from 'vitest';
import {
  checkUpstreamRange,
  formatContentRange,
  parseContentRange,
  parseRangeHeader,
  partialContentHeaders,
  rangeToForward,
  type ByteRange,
  type RangeResult,
} from '../src/index';
import { render } from './render';

type Oracle = ReturnType<typeof rangeParser>;

function oracle(size: number, header: string, combine: boolean): Oracle {
  return rangeParser(size, header, { combine });
}

function plain(result: Oracle): ByteRange[] | -1 | -2 {
  return typeof result === 'number' ? result : result.map(({ start, end }) => ({ start, end }));
}

const ows = fc.constantFrom('', ' ', '\t', ' \t ');
const zeros = fc.constantFrom('', '0', '00');

/** A header inside the region where both parsers agree by design (see the differences below). */
const agreeing = fc.integer({ min: 1, max: 5000 }).chain((size) =>
  fc.record({
    size: fc.constant(size),
    combine: fc.boolean(),
    specs: fc.array(
      fc.oneof(
        // int-range with last-pos >= first-pos, positions up to twice the size
        fc.tuple(fc.integer({ min: 0, max: 2 * size }), fc.nat({ max: 2 * size }), zeros).map(([first, extra, pad]) => `${pad}${first}-${first + extra}`),
        // open int-range
        fc.tuple(fc.integer({ min: 0, max: 2 * size }), zeros).map(([first, pad]) => `${pad}${first}-`),
        // suffix-range no longer than the representation
        fc.tuple(fc.integer({ min: 0, max: size }), zeros).map(([length, pad]) => `-${pad}${length}`),
      ),
      { minLength: 1, maxLength: 8 },
    ),
    separators: fc.array(fc.tuple(ows, ows), { minLength: 8, maxLength: 8 }),
  }),
);

describe('property: agreement with range-parser', () => {
  it('parseRangeHeader matches range-parser on bytes headers without the documented differences', () => {
    fc.assert(
      fc.property(agreeing, ({ size, combine, specs, separators }) => {
        const header = `bytes=${specs.map((spec, k) => (k === 0 ? spec : `${separators[k]?.[0]},${separators[k]?.[1]}${spec}`)).join('')}`;
        const ours = parseRangeHeader(header, size, { combine, maxRanges: Infinity });
        const theirs = plain(oracle(size, header, combine));
        if (theirs === -2) throw new Error(`range-parser refused ${header}`);
        if (theirs === -1) {
          expect(ours).toEqual({ kind: 'unsatisfiable' });
        } else {
          // range-parser keeps combined ranges in request order; this package sorts them
          const expected = combine ? [...theirs].sort((a, b) => a.start - b.start) : theirs;
          expect(ours).toEqual({ kind: 'ranges', ranges: expected });
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('properties of this package alone', () => {
  const alphabet = fc.constantFrom('b', 'y', 't', 'e', 's', 'B', '=', '-', ',', ' ', '\t', '0', '1', '5', '9', '*', 'x');
  const noise = fc.string({ unit: alphabet, maxLength: 30 });

  it('parseRangeHeader never throws on any header text, and every range is inside the size', () => {
    fc.assert(
      fc.property(fc.oneof(noise, noise.map((s) => `bytes=${s}`)), fc.nat({ max: 200 }), fc.boolean(), (header, size, combine) => {
        const result: RangeResult = parseRangeHeader(header, size, { combine });
        if (result.kind !== 'ranges') return;
        expect(result.ranges.length).toBeGreaterThan(0);
        for (const { start, end } of result.ranges) {
          expect(0 <= start && start <= end && end < size).toBe(true);
        }
        if (combine) {
          // ascending, and neither overlapping nor adjacent
          for (let k = 1; k < result.ranges.length; k++) {
            expect(result.ranges[k]!.start).toBeGreaterThan(result.ranges[k - 1]!.end + 1);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rangeToForward keeps the meaning of a single range for every size', () => {
    fc.assert(
      fc.property(fc.oneof(noise.map((s) => `bytes=${s}`), agreeing.map(({ specs }) => `bytes=${specs[0]}`)), fc.nat({ max: 200 }), (header, size) => {
        const forwarded = rangeToForward(header);
        if (forwarded === undefined) return;
        expect(parseRangeHeader(forwarded, size)).toEqual(parseRangeHeader(header, size));
        expect(rangeToForward(forwarded)).toBe(forwarded);
      }),
      { numRuns: 2000 },
    );
  });

  it('a 200 that the proxy slices yields exactly the 206 an honest upstream would send', () => {
    fc.assert(
      fc.property(agreeing.map(({ specs }) => `bytes=${specs[0]}`), fc.nat({ max: 5000 }), (header, size) => {
        const range = rangeToForward(header);
        const verdict = checkUpstreamRange({ range, status: 200, contentLength: String(size) });
        const expected = parseRangeHeader(header, size);
        if (verdict.kind === 'slice') {
          expect(expected).toEqual({ kind: 'ranges', ranges: [verdict.range] });
          const honest = partialContentHeaders(verdict.range, size);
          expect(verdict.headers).toEqual(honest);
          expect(checkUpstreamRange({ range, status: 206, contentRange: honest['content-range'], contentLength: honest['content-length'] })).toEqual({ kind: 'pass' });
        } else if (verdict.kind === 'unsatisfiable') {
          expect(expected).toEqual({ kind: 'unsatisfiable' });
          expect(checkUpstreamRange({ range, status: 416, contentRange: verdict.headers['content-range'] })).toEqual(verdict);
        } else {
          expect(verdict).toEqual({ kind: 'full' });
          expect(expected).toEqual({ kind: 'none' });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('formatContentRange and parseContentRange are inverse', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.option(fc.nat(), { nil: undefined }), (a, b, extra) => {
        const start = Math.min(a, b);
        const end = Math.max(a, b);
        const size = extra === undefined ? undefined : end + 1 + extra;
        const text = formatContentRange({ start, end }, size);
        expect(parseContentRange(text)).toEqual({ kind: 'range', start, end, size });
      }),
    );
  });
});

// Each row: the header, the size, combine, what range-parser 1.3.0 answers, what this package
// answers. The README's "Differences from range-parser" lists exactly these.
type Difference = [label: string, header: string, size: number, combine: boolean, theirs: ByteRange[] | -1 | -2, ours: RangeResult];
const r = (start: number, end: number): ByteRange => ({ start, end });

const differences: Difference[] = [
  ['unknown unit', 'items=0-1', 10, false, [r(0, 1)], { kind: 'malformed', reason: 'unsupported range unit "items": only "bytes" is defined' }],
  ['empty unit', '=0-1', 10, false, [r(0, 1)], { kind: 'malformed', reason: 'expected a range unit (a token) before "=", received "=0-1"' }],
  ['whitespace before "="', 'bytes =0-1', 10, false, [r(0, 1)], { kind: 'malformed', reason: 'expected "=" after the range unit, received " =0-1"' }],
  ['whitespace after "="', 'bytes= 0-1', 10, false, [r(0, 1)], { kind: 'malformed', reason: 'expected a range-spec right after "=", received whitespace' }],
  ['whitespace inside a range', 'bytes=0 - 1', 10, false, [r(0, 1)], { kind: 'malformed', reason: 'expected "-" after the first-pos, received " - 1"' }],
  ['a newline as whitespace', 'bytes=0-1,\n2-3', 10, false, [r(0, 1), r(2, 3)], { kind: 'malformed', reason: 'expected a range-spec (digits or "-"), received "\\n2-3"' }],
  ['trailing comma', 'bytes=0-1,', 10, false, -2, { kind: 'ranges', ranges: [r(0, 1)] }],
  ['empty list element', 'bytes=0-1,,2-3', 10, false, -2, { kind: 'ranges', ranges: [r(0, 1), r(2, 3)] }],
  ['an inverted range alone', 'bytes=5-4', 10, false, -1, { kind: 'malformed', reason: 'last-pos 4 is before first-pos 5: the whole header is invalid (RFC 9110 §14.1.1)' }],
  ['an inverted range among valid ones', 'bytes=5-4,0-1', 10, false, [r(0, 1)], { kind: 'malformed', reason: 'last-pos 4 is before first-pos 5: the whole header is invalid (RFC 9110 §14.1.1)' }],
  ['a suffix longer than the representation', 'bytes=-20', 10, false, -1, { kind: 'ranges', ranges: [r(0, 9)] }],
  ['a suffix longer than the representation, among others', 'bytes=0-1,-20', 10, false, [r(0, 1)], { kind: 'ranges', ranges: [r(0, 1), r(0, 9)] }],
  ['a suffix of an empty representation', 'bytes=-5', 0, false, -1, { kind: 'none' }],
  ['a number beyond Number.MAX_SAFE_INTEGER', 'bytes=0-99999999999999999999', 10, false, [r(0, 9)], { kind: 'malformed', reason: 'last-pos beyond 9007199254740991 in "0-999999999999999999…"' }],
  ['combined ranges are sorted', 'bytes=8-9,0-1', 10, true, [r(8, 9), r(0, 1)], { kind: 'ranges', ranges: [r(0, 1), r(8, 9)] }],
  ['an empty header', '', 10, false, -2, { kind: 'none' }],
  ['more than maxRanges ranges', `bytes=${'0-0,'.repeat(100)}0-0`, 10, false, Array.from({ length: 101 }, () => r(0, 0)), { kind: 'malformed', reason: 'more than 100 ranges in one header' }],
];

describe('deliberate differences from range-parser', () => {
  for (const [label, header, size, combine, theirs, ours] of differences) {
    const call = header.length > 40 ? `parseRangeHeader(<101 ranges>, ${size})` : render('parseRangeHeader', header, size, ...(combine ? [{ combine }] : []));
    it(`${label}: ${call}`, () => {
      expect(plain(oracle(size, header, combine))).toEqual(theirs);
      expect(parseRangeHeader(header, size, { combine })).toEqual(ours);
    });
  }

  it('agreement on bytes=-0: both unsatisfiable', () => {
    expect(oracle(10, 'bytes=-0', false)).toBe(-1);
    expect(parseRangeHeader('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
  });

  it('misuse: range-parser accepts a negative size, this package throws TypeError', () => {
    expect(plain(oracle(-10, 'bytes=0-1', false))).toEqual(-1);
    expect(() => parseRangeHeader('bytes=0-1', -10)).toThrow(TypeError);
  });

  it('no header: range-parser throws on undefined, this package answers none', () => {
    expect(() => rangeParser(10, undefined as unknown as string)).toThrow(TypeError);
    expect(parseRangeHeader(undefined, 10)).toEqual({ kind: 'none' });
  });
});
