import { vitestConfig } from '../../vitest.shared';

export default vitestConfig({ testTimeout: 120_000 });
