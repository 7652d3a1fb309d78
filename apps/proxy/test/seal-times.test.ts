import { describe, expect, test } from 'vitest';
import { SealTimes } from '../src/seal-times';

// A token lifetime of 2400 s: links are sealed on a grid of 600 s (a quarter), and a link a
// reloaded live playlist listed keeps its instant for 1200 s (half).
const TTL = 2400;
/** A multiple of 600 s. */
const T0 = 1_800_000_000;

describe('SealTimes: when the links of live playlists are sealed', () => {
  test('links are sealed at now rounded down to a quarter lifetime: replicas started at different times agree', () => {
    const here = new SealTimes(TTL).forRewrite('p', T0 + 10);
    const there = new SealTimes(TTL).forRewrite('p', T0 + 590);
    expect([here('seg1'), there('seg1'), here('seg2')]).toEqual([T0, T0, T0]);
    expect(new SealTimes(TTL).forRewrite('p', T0 + 600)('seg1')).toBe(T0 + 600);
  });

  test('a reload across the grid gives the links its first rewrite listed that rewrite\'s instant, and remembers them', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0 + 595)('seg1');
    const reload = times.forRewrite('p', T0 + 601);
    expect([reload('seg1'), reload('seg2')]).toEqual([T0, T0]);
    // From the next reload on, a link not remembered is a new one: the current quarter.
    const next = times.forRewrite('p', T0 + 607);
    expect([next('seg1'), next('seg2'), next('seg3')]).toEqual([T0, T0, T0 + 600]);
  });

  test('a link listed for half a lifetime is sealed anew (a reused token still lives half a lifetime less a bucket)', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0);
    times.forRewrite('p', T0 + 1)('seg1');
    expect(times.forRewrite('p', T0 + 1199)('seg1')).toBe(T0);
    expect(times.forRewrite('p', T0 + 1200)('seg1')).toBe(T0 + 1200);
  });

  test('a first rewrite remembers no link, but seals a link another live playlist listed at that one\'s instant', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('live', T0);
    times.forRewrite('live', T0 + 6)('shared-segment');
    const other = times.forRewrite('other', T0 + 700);
    expect([other('shared-segment'), other('own-segment')]).toEqual([T0, T0 + 600]);
    // Its own links were not remembered: a third playlist seals them at its own instant.
    expect(times.forRewrite('third', T0 + 1300)('own-segment')).toBe(T0 + 1200);
  });

  test('an ended playlist is forgotten: its next rewrite is a first one and remembers no link', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('vod', T0);
    times.ended('vod');
    times.forRewrite('vod', T0 + 700)('seg1');
    expect(times.forRewrite('other', T0 + 1300)('seg1')).toBe(T0 + 1200);
  });

  test('a clock that went back does not reuse an instant in its future', () => {
    const times = new SealTimes(TTL);
    times.forRewrite('p', T0 + 600);
    times.forRewrite('p', T0 + 601)('seg1');
    expect(times.forRewrite('p', T0 - 10)('seg1')).toBe(T0 - 600);
  });
});
