import { vitestConfig } from '../../vitest.shared';

export default vitestConfig({ testTimeout: 20_000 });
