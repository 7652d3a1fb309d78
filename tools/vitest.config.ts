import { vitestConfig } from '../vitest.shared';

// The short modes of the fuzz and the soak (seeded, under a minute each) and the harness; the
// benchmarks are scripts, never timed tests (only their pure helpers are unit-tested).
export default vitestConfig({ testTimeout: 120_000, include: ['fuzz/**/*.test.ts', 'soak/**/*.test.ts', 'harness/**/*.test.ts', 'bench/**/*.test.ts'] });
