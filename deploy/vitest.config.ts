import { vitestConfig } from '../vitest.shared';

export default vitestConfig({ testTimeout: 30_000 });
