import { vitestConfig } from '../vitest.shared';

// The short modes of the fuzz and the soak (seeded, under a minute each); the benchmarks are
// scripts, never tests.
export default vitestConfig({ testTimeout: 120_000, include: ['fuzz/**/*.test.ts', 'soak/**/*.test.ts', 'harness/**/*.test.ts'] });
