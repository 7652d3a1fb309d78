import { mergeConfig } from 'vitest/config';
import { vitestConfig } from '../../vitest.shared';

// The suites mostly wait on ffmpeg and loopback sockets: two files at a time keep both cores of a
// CI runner busy without starving the load suite, whose bounds are about memory, not time.
export default mergeConfig(vitestConfig({ testTimeout: 120_000 }), { test: { maxWorkers: 2, minWorkers: 1 } });
