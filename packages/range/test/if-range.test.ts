import { describe, expect, it } from 'vitest';
import { evaluateIfRange, type IfRangeInput } from '../src/index';
import { render } from './render';

// RFC 9110 §5.6.7: the same instant in the three forms a recipient must accept.
const IMF = 'Sun, 06 Nov 1994 08:49:37 GMT';
const RFC850 = 'Sunday, 06-Nov-94 08:49:37 GMT';
const ASCTIME = 'Sun Nov  6 08:49:37 1994';

describe('evaluateIfRange (RFC 9110 §13.1.5)', () => {
  const rows: [IfRangeInput, boolean][] = [
    // no If-Range: apply the Range
    [{ ifRange: undefined, etag: '"a"' }, true],
    [{ ifRange: null }, true],

    // entity-tags: strong comparison only
    [{ ifRange: '"xyzzy"', etag: '"xyzzy"' }, true],
    [{ ifRange: '""', etag: '""' }, true],
    [{ ifRange: ' "xyzzy" ', etag: '"xyzzy"' }, true],
    [{ ifRange: '"xyzzy"', etag: '"r2d2xxxx"' }, false],
    [{ ifRange: '"xyzzy"', etag: 'W/"xyzzy"' }, false],
    [{ ifRange: 'W/"xyzzy"', etag: '"xyzzy"' }, false],
    [{ ifRange: 'W/"xyzzy"', etag: 'W/"xyzzy"' }, false],
    [{ ifRange: '"xyzzy"' }, false],
    [{ ifRange: '"xyzzy"', etag: null }, false],
    [{ ifRange: '"xyzzy"', etag: 'xyzzy' }, false],
    [{ ifRange: '"xyzzy"', lastModified: IMF }, false],
    // entity-tags are case-sensitive and opaque
    [{ ifRange: '"XYZZY"', etag: '"xyzzy"' }, false],
    // malformed tags never match, not even themselves
    [{ ifRange: '"xyz', etag: '"xyz' }, false],
    [{ ifRange: '"x"y"', etag: '"x"y"' }, false],
    [{ ifRange: '"x y"', etag: '"x y"' }, false],
    [{ ifRange: 'w/"xyzzy"', etag: 'w/"xyzzy"' }, false],
    [{ ifRange: '"a", "b"', etag: '"a"' }, false],
    [{ ifRange: '*', etag: '"a"' }, false],

    // dates: exactly Last-Modified
    [{ ifRange: IMF, lastModified: IMF }, true],
    [{ ifRange: RFC850, lastModified: IMF }, true],
    [{ ifRange: ASCTIME, lastModified: IMF }, true],
    [{ ifRange: IMF, lastModified: ASCTIME }, true],
    [{ ifRange: 'Sun, 06 Nov 1994 08:49:38 GMT', lastModified: IMF }, false],
    [{ ifRange: 'Sun, 06 Nov 1994 08:49:36 GMT', lastModified: IMF }, false],
    [{ ifRange: 'Sun, 06 Nov 2094 08:49:37 GMT', lastModified: IMF }, false],
    [{ ifRange: IMF }, false],
    [{ ifRange: IMF, lastModified: null }, false],
    [{ ifRange: IMF, etag: '"a"' }, false],
    [{ ifRange: IMF, lastModified: 'yesterday' }, false],
    // a date is not compared with an ETag, nor a tag with Last-Modified
    [{ ifRange: IMF, etag: IMF }, false],
    // not an HTTP-date: wrong weekday, bad field, lowercase names, a zone other than GMT, no date at all
    [{ ifRange: 'Mon, 06 Nov 1994 08:49:37 GMT', lastModified: 'Mon, 06 Nov 1994 08:49:37 GMT' }, false],
    [{ ifRange: 'Sun, 06 nov 1994 08:49:37 GMT', lastModified: 'Sun, 06 nov 1994 08:49:37 GMT' }, false],
    [{ ifRange: 'Sun, 06 Nov 1994 08:49:37 UTC', lastModified: 'Sun, 06 Nov 1994 08:49:37 UTC' }, false],
    [{ ifRange: 'Sun, 6 Nov 1994 08:49:37 GMT', lastModified: 'Sun, 6 Nov 1994 08:49:37 GMT' }, false],
    [{ ifRange: 'Tue, 31 Feb 1995 08:49:37 GMT', lastModified: 'Tue, 31 Feb 1995 08:49:37 GMT' }, false],
    [{ ifRange: 'Sun, 06 Nov 1994 24:00:00 GMT', lastModified: 'Sun, 06 Nov 1994 24:00:00 GMT' }, false],
    [{ ifRange: '784111777', lastModified: '784111777' }, false],
    [{ ifRange: '', lastModified: IMF }, false],
    // a leap second is a valid HTTP-date (second = 60)
    [{ ifRange: 'Sat, 31 Dec 2016 23:59:60 GMT', lastModified: 'Sat, 31 Dec 2016 23:59:60 GMT' }, true],
    // leap day
    [{ ifRange: 'Thu, 29 Feb 2024 00:00:00 GMT', lastModified: 'Thu, 29 Feb 2024 00:00:00 GMT' }, true],
  ];
  for (const [input, expected] of rows) {
    it(`${render('evaluateIfRange', input)} is ${expected}`, () => {
      expect(evaluateIfRange(input)).toBe(expected);
    });
  }

  const misuse: unknown[] = [null, 'x', { ifRange: 42 }, { ifRange: '"a"', etag: 1 }, { ifRange: IMF, lastModified: new Date() }];
  for (const input of misuse) {
    it(`${render('evaluateIfRange', input)} throws TypeError`, () => {
      expect(() => evaluateIfRange(input as IfRangeInput)).toThrow(TypeError);
    });
  }
});
