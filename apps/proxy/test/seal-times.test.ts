import { describe, expect, test } from 'vitest';
import { SealTimes } from '../src/seal-times';

// A token lifetime of 2400 s: a playlist's seal time is given to its links for 600 s, a link
// keeps its own for 1200 s.
const TTL = 2400;
const T0 = 1_800_000_000;

describe('SealTimes: when the links of a reloaded playlist are sealed', () => {
  test('a first rewrite seals every link now and remembers none of them', () => {
    const times = new SealTimes(TTL);
    expect(times.forRewrite('https://cdn.example/a.m3u8', T0)).toBeUndefined();
    expect(times.forRewrite('https://cdn.example/b.m3u8', T0 + 5)).toBeUndefined();
  });

  test('a reload seals old and new links at the first rewrite\'s time, across expiry buckets', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0);
    const reload = times.forRewrite('p', T0 + 599)!;
    expect(['seg1', 'seg2', 'seg-new'].map(reload)).toEqual([T0, T0, T0]);
  });

  test('once the playlist\'s time is a quarter lifetime old, new links get the current time; listed ones keep theirs', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0);
    times.forRewrite('p', T0 + 590)!('seg7');
    const later = times.forRewrite('p', T0 + 600)!;
    expect(later('seg7')).toBe(T0);
    expect(later('seg8')).toBe(T0 + 600);
    // The next reload goes on from the moved time.
    expect(times.forRewrite('p', T0 + 606)!('seg9')).toBe(T0 + 600);
  });

  test('a link listed for half a lifetime is sealed anew (its token keeps at least that long)', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0);
    times.forRewrite('p', T0 + 1)!('seg1');
    // The playlist's own time moved at T0 + 1199 (a quarter lifetime passed); the link kept T0.
    expect(times.forRewrite('p', T0 + 1199)!('seg1')).toBe(T0);
    expect(times.forRewrite('p', T0 + 1200)!('seg1')).toBe(T0 + 1199);
  });

  test('a clock that went back does not reuse a time in its future', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0);
    expect(times.forRewrite('p', T0 - 10)!('seg1')).toBe(T0 - 10);
  });
});
