import { vitestConfig } from '../vitest.shared';

// The short modes of the fuzz and the soak (seeded, under a minute each) and the harness; the
// benchmarks are scripts, never timed tests (their helpers are unit-tested, and their origins and
// byte paths checked for the bytes they pass).
export default vitestConfig({ testTimeout: 120_000, include: ['fuzz/**/*.test.ts', 'soak/**/*.test.ts', 'harness/**/*.test.ts', 'bench/**/*.test.ts'] });
