import { describe, expect, it } from 'vitest';
import { interleave, roundOrder } from './stats';

describe('interleave', () => {
  it('roundOrder([A, B, C], 0..5): an order, the same reversed, then rotated by one', () => {
    expect([0, 1, 2, 3, 4, 5].map((round) => roundOrder(['A', 'B', 'C'], round).join(''))).toEqual(['ABC', 'CBA', 'BCA', 'ACB', 'CAB', 'BAC']);
  });

  it('over any even number of rounds, a variant runs right before another as often as right after it', async () => {
    const variants = ['A', 'B', 'C', 'D', 'E'] as const;
    for (const rounds of [2, 6, 16]) {
      const ran: string[] = [];
      await interleave(variants, rounds, async (variant) => void ran.push(variant));
      const follows = new Map<string, number>();
      for (let round = 0; round < rounds; round++) {
        const order = ran.slice(round * variants.length, (round + 1) * variants.length);
        for (let i = 1; i < order.length; i++) follows.set(`${order[i - 1]}${order[i]}`, (follows.get(`${order[i - 1]}${order[i]}`) ?? 0) + 1);
      }
      for (const [pair, count] of follows) expect(follows.get(`${pair[1]}${pair[0]}`), `${pair} in ${rounds} rounds`).toBe(count);
    }
  });

  it('returns the measurements per variant in round order', async () => {
    const results = await interleave(['x', 'y'], 3, async (variant, round) => `${variant}${round}`);
    expect(results).toEqual({ x: ['x0', 'x1', 'x2'], y: ['y0', 'y1', 'y2'] });
  });
});
