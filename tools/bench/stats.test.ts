import { describe, expect, it } from 'vitest';
import { balancedPeriod, balancedRounds, interleave, roundOrder } from './stats';

/** How often each ordered pair runs back to back within a round, and each variant at each place, over `rounds`. */
function tally(variants: readonly string[], rounds: number) {
  const follows = new Map<string, number>();
  const places = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const order = roundOrder(variants, round);
    expect([...order].sort()).toEqual([...variants].sort());
    order.forEach((variant, place) => places.set(`${variant}@${place}`, (places.get(`${variant}@${place}`) ?? 0) + 1));
    for (let i = 1; i < order.length; i++) follows.set(`${order[i - 1]}>${order[i]}`, (follows.get(`${order[i - 1]}>${order[i]}`) ?? 0) + 1);
  }
  return { follows, places };
}

describe('interleave', () => {
  it('roundOrder([A, B, C, D], 0..3) is a Williams square: ABDC, BCAD, CDBA, DACB', () => {
    expect([0, 1, 2, 3].map((round) => roundOrder(['A', 'B', 'C', 'D'], round).join(''))).toEqual(['ABDC', 'BCAD', 'CDBA', 'DACB']);
  });

  it.each([2, 3, 4, 5, 6, 7])('over a period of %i variants, each runs at each place, and right after each other one, equally often', (count) => {
    const variants = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i));
    const period = balancedPeriod(count);
    const { follows, places } = tally(variants, 2 * period);
    expect(follows.size).toBe(count * (count - 1));
    expect(new Set(follows.values()).size).toBe(1);
    expect(places.size).toBe(count * count);
    expect(new Set(places.values()).size).toBe(1);
  });

  it.each([
    [7, 6, 12],
    [5, 6, 6],
    [13, 6, 18],
    [5, 5, 10],
    [12, 6, 12],
    [5, 4, 8],
    [1, 3, 6],
  ])('balancedRounds(%i rounds, %i variants) is %i: the fewest whole periods, each order balanced', (atLeast, count, expected) => {
    const rounds = balancedRounds(atLeast, count);
    expect(rounds).toBe(expected);
    const { follows, places } = tally(
      Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i)),
      rounds,
    );
    expect(new Set(follows.values()).size).toBe(1);
    expect(new Set(places.values()).size).toBe(1);
  });

  it('returns the measurements per variant in round order', async () => {
    const results = await interleave(['x', 'y'], 3, async (variant, round) => `${variant}${round}`);
    expect(results).toEqual({ x: ['x0', 'x1', 'x2'], y: ['y0', 'y1', 'y2'] });
  });
});
