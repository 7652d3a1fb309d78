import { describe, expect, it } from 'vitest';
import { checkUpstreamRange, type UpstreamRangeInput, type UpstreamRangeVerdict } from '../src/index';
import { render } from './render';

const pass: UpstreamRangeVerdict = { kind: 'pass' };
const full: UpstreamRangeVerdict = { kind: 'full' };
const mismatch = expect.objectContaining({ kind: 'mismatch', reason: expect.any(String) }) as UpstreamRangeVerdict;
const slice = (start: number, end: number, size: number): UpstreamRangeVerdict => ({
  kind: 'slice',
  range: { start, end },
  size,
  headers: { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) },
});
const unsatisfiable = (size: number): UpstreamRangeVerdict => ({ kind: 'unsatisfiable', size, headers: { 'content-range': `bytes */${size}` } });

const LM = 'Sun, 06 Nov 1994 08:49:37 GMT';

function table(rows: [UpstreamRangeInput, UpstreamRangeVerdict][]): void {
  for (const [input, expected] of rows) {
    it(render('checkUpstreamRange', input), () => {
      expect(checkUpstreamRange(input)).toEqual(expected);
    });
  }
}

describe('no Range forwarded', () => {
  table([
    [{ range: undefined, status: 200, contentLength: '1234' }, pass],
    [{ range: null, status: 200 }, pass],
    [{ range: '', status: 200 }, pass],
    [{ range: undefined, status: 404 }, pass],
    [{ range: undefined, status: 416, contentRange: 'bytes */1234' }, pass],
    // bytes nobody asked for
    [{ range: undefined, status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500' }, mismatch],
  ]);
});

describe('206: the upstream honoured the Range', () => {
  table([
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500' }, pass],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234' }, pass],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/*', contentLength: '500' }, pass],
    [{ range: 'bytes=21010-47021', status: 206, contentRange: 'bytes 21010-47021/47022', contentLength: '26012' }, pass],
    // an end past the representation is clamped by the upstream
    [{ range: 'bytes=1000-99999', status: 206, contentRange: 'bytes 1000-1233/1234', contentLength: '234' }, pass],
    // an unknown total may hide a clamped end
    [{ range: 'bytes=1000-99999', status: 206, contentRange: 'bytes 1000-1233/*', contentLength: '234' }, pass],
    [{ range: 'bytes=500-', status: 206, contentRange: 'bytes 500-1233/1234', contentLength: '734' }, pass],
    // an open range may be answered with a shorter window (CDNs cap them; Content-Range says so)
    [{ range: 'bytes=0-', status: 206, contentRange: 'bytes 0-1048575/5000000', contentLength: '1048576' }, pass],
    [{ range: 'bytes=0-', status: 206, contentRange: 'bytes 0-1048575/*' }, pass],
    [{ range: 'bytes=-500', status: 206, contentRange: 'bytes 734-1233/1234', contentLength: '500' }, pass],
    [{ range: 'bytes=-5000', status: 206, contentRange: 'bytes 0-1233/1234', contentLength: '1234' }, pass],
    // case and OWS of the upstream's headers
    [{ range: 'bytes=0-499', status: 206, contentRange: 'Bytes 0-499/1234', contentLength: ' 500 ' }, pass],
  ]);
});

describe('206 that is not the bytes asked for: never sent', () => {
  table([
    // another start: every byte would land at the wrong offset
    [{ range: 'bytes=500-999', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500' }, mismatch],
    [{ range: 'bytes=500-', status: 206, contentRange: 'bytes 0-1233/1234', contentLength: '1234' }, mismatch],
    // another end
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-999/1234', contentLength: '1000' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-99/1234', contentLength: '100' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-999/*', contentLength: '1000' }, mismatch],
    [{ range: 'bytes=1000-99999', status: 206, contentRange: 'bytes 1000-1100/1234', contentLength: '101' }, mismatch],
    // a suffix elsewhere than the end, or with no total to check it against
    [{ range: 'bytes=-500', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500' }, mismatch],
    [{ range: 'bytes=-500', status: 206, contentRange: 'bytes 734-1233/*', contentLength: '500' }, mismatch],
    [{ range: 'bytes=-0', status: 206, contentRange: 'bytes 0-0/1234', contentLength: '1' }, mismatch],
    // Content-Length contradicting the range
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '1234' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '499' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: 'lots' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/1234', contentLength: '500, 500' }, mismatch],
    // no usable Content-Range
    [{ range: 'bytes=0-499', status: 206, contentLength: '500' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: null }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499/400' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes 0-499' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'items 0-499/1234' }, mismatch],
    [{ range: 'bytes=0-499', status: 206, contentRange: 'bytes */1234' }, mismatch],
  ]);

  it('checkUpstreamRange({"range":"bytes=500-999","status":206,"contentRange":"bytes 0-499/1234"}) says what differs', () => {
    expect(checkUpstreamRange({ range: 'bytes=500-999', status: 206, contentRange: 'bytes 0-499/1234' })).toEqual({
      kind: 'mismatch',
      reason: 'upstream answered "bytes 0-499/1234" to bytes=500-999',
    });
  });
});

describe('200: the upstream ignored the Range, so the proxy slices', () => {
  table([
    [{ range: 'bytes=0-499', status: 200, contentLength: '1234' }, slice(0, 499, 1234)],
    [{ range: 'bytes=500-', status: 200, contentLength: '1234' }, slice(500, 1233, 1234)],
    [{ range: 'bytes=-500', status: 200, contentLength: '1234' }, slice(734, 1233, 1234)],
    [{ range: 'bytes=-5000', status: 200, contentLength: '1234' }, slice(0, 1233, 1234)],
    [{ range: 'bytes=1000-99999', status: 200, contentLength: '1234' }, slice(1000, 1233, 1234)],
    [{ range: 'bytes=0-', status: 200, contentLength: '1234' }, slice(0, 1233, 1234)],
    // If-Range that matches the upstream's validators: still slice
    [{ range: 'bytes=0-499', ifRange: '"v1"', status: 200, contentLength: '1234', etag: '"v1"' }, slice(0, 499, 1234)],
    [{ range: 'bytes=0-499', ifRange: LM, status: 200, contentLength: '1234', lastModified: LM }, slice(0, 499, 1234)],
    [{ range: 'bytes=0-499', ifRange: null, status: 200, contentLength: '1234' }, slice(0, 499, 1234)],
  ]);
});

describe('200 that must stay a 200', () => {
  table([
    // If-Range did not match: the representation changed, the client needs all of it
    [{ range: 'bytes=0-499', ifRange: '"v1"', status: 200, contentLength: '1234', etag: '"v2"' }, full],
    [{ range: 'bytes=0-499', ifRange: '"v1"', status: 200, contentLength: '1234', etag: 'W/"v1"' }, full],
    [{ range: 'bytes=0-499', ifRange: '"v1"', status: 200, contentLength: '1234' }, full],
    [{ range: 'bytes=0-499', ifRange: LM, status: 200, contentLength: '1234', lastModified: 'Mon, 07 Nov 1994 08:49:37 GMT' }, full],
    [{ range: 'bytes=0-499', ifRange: 'garbage', status: 200, contentLength: '1234', etag: '"v1"' }, full],
    // no length: a 206 cannot be built, and a 200 is always a correct answer
    [{ range: 'bytes=0-499', status: 200 }, full],
    [{ range: 'bytes=0-499', status: 200, contentLength: 'abc' }, full],
    // a suffix of an empty body: no byte to send, nothing to refuse
    [{ range: 'bytes=-500', status: 200, contentLength: '0' }, full],
  ]);
});

describe('416, from the upstream or because the range selects nothing', () => {
  table([
    [{ range: 'bytes=5000-', status: 416, contentRange: 'bytes */1234' }, unsatisfiable(1234)],
    [{ range: 'bytes=-0', status: 416, contentRange: 'bytes */1234' }, unsatisfiable(1234)],
    [{ range: 'bytes=0-', status: 416, contentRange: 'bytes */0' }, unsatisfiable(0)],
    // no usable length in the upstream's 416: no Content-Range can be written
    [{ range: 'bytes=5000-', status: 416 }, { kind: 'unsatisfiable', size: undefined, headers: {} }],
    [{ range: 'bytes=5000-', status: 416, contentRange: 'bytes 0-1/1234' }, { kind: 'unsatisfiable', size: undefined, headers: {} }],
    // a 416 whose own length satisfies the range is wrong
    [{ range: 'bytes=0-499', status: 416, contentRange: 'bytes */1234' }, mismatch],
    // the upstream sent 200 but the range selects nothing in it
    [{ range: 'bytes=5000-', status: 200, contentLength: '1234' }, unsatisfiable(1234)],
    [{ range: 'bytes=-0', status: 200, contentLength: '1234' }, unsatisfiable(1234)],
    [{ range: 'bytes=0-', status: 200, contentLength: '0' }, unsatisfiable(0)],
  ]);
});

describe('any other status passes', () => {
  table([
    [{ range: 'bytes=0-499', status: 304 }, pass],
    [{ range: 'bytes=0-499', status: 302 }, pass],
    [{ range: 'bytes=0-499', status: 403 }, pass],
    [{ range: 'bytes=0-499', status: 404 }, pass],
    [{ range: 'bytes=0-499', status: 500 }, pass],
    [{ range: 'bytes=0-499', status: 503 }, pass],
    [{ range: 'bytes=0-499', status: 204 }, pass],
  ]);
});

describe('misuse throws TypeError', () => {
  const cases: unknown[] = [
    null,
    'bytes=0-1',
    { range: 'bytes=0-1', status: 99 },
    { range: 'bytes=0-1', status: 600 },
    { range: 'bytes=0-1', status: 200.5 },
    { range: 'bytes=0-1', status: '200' },
    { range: 'bytes=0-1', status: 200, contentLength: 500 },
    { range: 42, status: 200 },
    // the forwarded range must be exactly one valid range (what rangeToForward produces)
    { range: 'bytes=0-1,5-6', status: 200 },
    { range: 'bytes=5-1', status: 200 },
    { range: 'items=0-1', status: 200 },
  ];
  for (const input of cases) {
    it(`${render('checkUpstreamRange', input)} throws TypeError`, () => {
      expect(() => checkUpstreamRange(input as UpstreamRangeInput)).toThrow(TypeError);
    });
  }
});
