import { describe, expect, it } from 'vitest';
import {
  formatContentRange,
  parseContentRange,
  partialContentHeaders,
  unsatisfiableHeaders,
  type ByteRange,
  type ContentRange,
} from '../src/index';
import { render } from './render';

const range = (start: number, end: number, size: number | undefined): ContentRange => ({ kind: 'range', start, end, size });
const invalid = expect.objectContaining({ kind: 'invalid', reason: expect.any(String) }) as ContentRange;

describe('parseContentRange: the examples of RFC 9110', () => {
  const rows: [string, ContentRange][] = [
    // §14.4, a representation of 1234 bytes
    ['bytes 42-1233/1234', range(42, 1233, 1234)],
    ['bytes 42-1233/*', range(42, 1233, undefined)],
    ['bytes 0-499/1234', range(0, 499, 1234)],
    ['bytes 500-999/1234', range(500, 999, 1234)],
    ['bytes 500-1233/1234', range(500, 1233, 1234)],
    ['bytes 734-1233/1234', range(734, 1233, 1234)],
    ['bytes */1234', { kind: 'unsatisfied', size: 1234 }],
    // §15.3.7.1 and §15.3.7.2
    ['bytes 21010-47021/47022', range(21010, 47021, 47022)],
    ['bytes 500-999/8000', range(500, 999, 8000)],
    ['bytes 7000-7999/8000', range(7000, 7999, 8000)],
    // §15.5.17
    ['bytes */47022', { kind: 'unsatisfied', size: 47022 }],
    // §14.6 uses another unit, which this package does not read
    ['exampleunit 1.2-4.3/25', { kind: 'invalid', reason: 'unsupported range unit "exampleunit": only "bytes" is defined' }],
  ];
  for (const [value, expected] of rows) {
    it(render('parseContentRange', value), () => {
      expect(parseContentRange(value)).toEqual(expected);
    });
  }
});

describe('parseContentRange: strict', () => {
  const rows: [string | undefined | null, ContentRange][] = [
    // accepted: any case of the unit, leading zeros (1*DIGIT), the smallest ranges, field OWS
    ['BYTES 0-0/1', range(0, 0, 1)],
    ['bytes 00-09/010', range(0, 9, 10)],
    ['bytes */0', { kind: 'unsatisfied', size: 0 }],
    [' bytes 0-0/1\t', range(0, 0, 1)],
    [`bytes 0-${Number.MAX_SAFE_INTEGER - 1}/${Number.MAX_SAFE_INTEGER}`, range(0, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER)],
    // §14.4: last-pos before first-pos, or not below the complete length
    ['bytes 5-4/10', { kind: 'invalid', reason: 'last-pos 4 is before first-pos 5' }],
    ['bytes 0-10/10', { kind: 'invalid', reason: 'last-pos 10 is not below the complete length 10' }],
    ['bytes 0-0/0', invalid],
    // no value
    [undefined, { kind: 'invalid', reason: 'no Content-Range' }],
    [null, { kind: 'invalid', reason: 'no Content-Range' }],
    ['', { kind: 'invalid', reason: 'empty Content-Range' }],
    // anything off the grammar
    ['bytes 0-5', invalid],
    ['bytes 0-5/', invalid],
    ['bytes 0-/10', invalid],
    ['bytes -5/10', invalid],
    ['bytes 0-5/1e2', invalid],
    ['bytes +0-5/10', invalid],
    ['bytes 0.0-5/10', invalid],
    ['bytes 0-5/0xa', invalid],
    ['bytes=0-5/10', invalid],
    ['bytes\t0-5/10', invalid],
    ['bytes  0-5/10', invalid],
    ['bytes 0 -5/10', invalid],
    ['bytes 0- 5/10', invalid],
    ['bytes 0-5 /10', invalid],
    ['bytes 0-5/ 10', invalid],
    ['bytes 0-5/10 trailing', invalid],
    ['bytes 0-5/10, bytes 6-9/10', invalid],
    ['bytes */*', invalid],
    ['bytes */', invalid],
    ['bytes *-5/10', invalid],
    ['bytes */10/10', invalid],
    ['bytes', invalid],
    ['0-5/10', invalid],
    ['items 0-4/10', invalid],
    ['items */10', invalid],
    // numbers beyond Number.MAX_SAFE_INTEGER
    ['bytes 0-1/9007199254740992', invalid],
    ['bytes 9007199254740992-9007199254740993/*', invalid],
    ['bytes */99999999999999999999', invalid],
  ];
  for (const [value, expected] of rows) {
    it(render('parseContentRange', value), () => {
      expect(parseContentRange(value)).toEqual(expected);
    });
  }

  it('parseContentRange(42) throws TypeError', () => {
    expect(() => parseContentRange(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('formatContentRange', () => {
  const rows: [ByteRange | undefined, number | undefined, string][] = [
    [{ start: 0, end: 499 }, 1234, 'bytes 0-499/1234'],
    [{ start: 42, end: 1233 }, 1234, 'bytes 42-1233/1234'],
    [{ start: 42, end: 1233 }, undefined, 'bytes 42-1233/*'],
    [undefined, 1234, 'bytes */1234'],
    [undefined, 0, 'bytes */0'],
    [{ start: 0, end: 0 }, 1, 'bytes 0-0/1'],
  ];
  for (const [byteRange, size, expected] of rows) {
    it(render('formatContentRange', byteRange, size), () => {
      const text = formatContentRange(byteRange, size);
      expect(text).toBe(expected);
      // what is written reads back as the same thing
      expect(parseContentRange(text)).toEqual(
        byteRange === undefined ? { kind: 'unsatisfied', size } : { kind: 'range', start: byteRange.start, end: byteRange.end, size },
      );
    });
  }

  const misuse: [unknown, unknown][] = [
    [undefined, undefined],
    [{ start: 0, end: 10 }, 10],
    [{ start: 5, end: 4 }, 10],
    [{ start: -1, end: 4 }, 10],
    [{ start: 0.5, end: 4 }, 10],
    [{ start: 0, end: 4 }, -1],
    [{ start: 0, end: 4 }, 1.5],
    [undefined, -1],
    [null, 10],
  ];
  for (const [byteRange, size] of misuse) {
    it(`${render('formatContentRange', byteRange, size)} throws TypeError`, () => {
      expect(() => formatContentRange(byteRange as ByteRange, size as number)).toThrow(TypeError);
    });
  }
});

describe('partialContentHeaders and unsatisfiableHeaders', () => {
  it(render('partialContentHeaders', { start: 21010, end: 47021 }, 47022), () => {
    expect(partialContentHeaders({ start: 21010, end: 47021 }, 47022)).toEqual({
      'content-range': 'bytes 21010-47021/47022',
      'content-length': '26012',
    });
  });
  it(render('partialContentHeaders', { start: 0, end: 0 }, 1), () => {
    expect(partialContentHeaders({ start: 0, end: 0 }, 1)).toEqual({ 'content-range': 'bytes 0-0/1', 'content-length': '1' });
  });
  it(render('unsatisfiableHeaders', 47022), () => {
    expect(unsatisfiableHeaders(47022)).toEqual({ 'content-range': 'bytes */47022' });
  });
  it(render('unsatisfiableHeaders', 0), () => {
    expect(unsatisfiableHeaders(0)).toEqual({ 'content-range': 'bytes */0' });
  });

  const misuse: [string, () => unknown][] = [
    [render('partialContentHeaders', { start: 0, end: 10 }, 10), () => partialContentHeaders({ start: 0, end: 10 }, 10)],
    [render('partialContentHeaders', { start: 0, end: 0 }, 0), () => partialContentHeaders({ start: 0, end: 0 }, 0)],
    [render('partialContentHeaders', { start: 3, end: 2 }, 10), () => partialContentHeaders({ start: 3, end: 2 }, 10)],
    [render('unsatisfiableHeaders', -1), () => unsatisfiableHeaders(-1)],
    [render('unsatisfiableHeaders', NaN), () => unsatisfiableHeaders(NaN)],
  ];
  for (const [name, call] of misuse) {
    it(`${name} throws TypeError`, () => {
      expect(call).toThrow(TypeError);
    });
  }
});
