// Small statistics for the benchmark: medians of rounds, percentiles of latency samples, and the
// interleaving that makes two measurements of one run comparable (ABAB..., never AAA...BBB).

/** The value at quantile `q` (0..1) of `values`, by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/**
 * Runs every variant once per round and returns the measurements per variant (in round order).
 * The orders are the rows of a balanced Latin square (a Williams design; {@link roundOrder}):
 * over a full period every variant runs in every position, and right after every other variant,
 * equally often, so what a busy predecessor leaves behind (connections closing, garbage
 * collected) and the place in the round fall on all alike. With a rotation alone, B followed A in
 * every round but one.
 */
export async function interleave<V extends string, T>(
  variants: readonly V[],
  rounds: number,
  measure: (variant: V, round: number) => Promise<T>,
): Promise<Record<V, T[]>> {
  const results = Object.fromEntries(variants.map((variant) => [variant, [] as T[]])) as Record<V, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (const variant of roundOrder(variants, round)) results[variant].push(await measure(variant, round));
  }
  return results;
}

/** Rounds after which {@link roundOrder} repeats: n for an even number of variants, 2n for an odd one. */
export const balancedPeriod = (variants: number): number => (variants % 2 === 0 ? variants : 2 * variants);

/**
 * The fewest whole periods of {@link roundOrder} with at least `atLeast` rounds. A part of a period
 * is not balanced: with five routes and five rounds, the proxy never ran right after the bare pipe
 * within a round.
 */
export const balancedRounds = (atLeast: number, variants: number): number => Math.ceil(atLeast / balancedPeriod(variants)) * balancedPeriod(variants);

/** The rounds a section runs over `variants`: `rounds`, or with `balanced` the {@link balancedRounds} of it. */
export const roundsToRun = (section: { rounds: number; balanced: boolean }, variants: number): number =>
  section.balanced ? balancedRounds(section.rounds, variants) : section.rounds;

/**
 * The order of `variants` in round `round` of {@link interleave}: row `round` of a Williams
 * design. Its first row is 0, 1, n-1, 2, n-2, …; row i adds i to each index (mod n); for an odd n
 * the n rows are followed by the same rows reversed.
 */
export function roundOrder<V>(variants: readonly V[], round: number): V[] {
  const n = variants.length;
  const index = round % balancedPeriod(n);
  const row = index % n;
  const order = variants.map((_, j) => variants[((j % 2 === 1 ? (j + 1) / 2 : n - j / 2) + row) % n]!);
  return index < n ? order : order.reverse();
}

/** A fixed-width text table: the first row is the header. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(rows[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export const fixed = (value: number | undefined, digits = 1): string =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

/** The median of some rounds and their range: how far one round can be from another. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** Per-round ratios `a[i] / b[i]` of two interleaved measurements (round i of each ran side by side). */
export function ratioSpread(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): Spread | undefined {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y) && y !== 0) ratios.push(x / y);
  }
  return ratios.length === 0 ? undefined : spreadOf(ratios);
}

/** `12.3 (11.0-14.1)`: the median and, in parentheses, the smallest and largest round. */
export function withSpread(spread: Spread | undefined, digits = 1, suffix = ''): string {
  if (spread === undefined || !Number.isFinite(spread.median)) return 'n/a';
  const f = (value: number) => value.toFixed(digits);
  return spread.min === spread.max ? `${f(spread.median)}${suffix}` : `${f(spread.median)}${suffix} (${f(spread.min)}-${f(spread.max)})`;
}
