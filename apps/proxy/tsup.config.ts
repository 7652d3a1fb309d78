import { tsupConfig } from '../../tsup.shared';

export default tsupConfig({ entry: ['src/index.ts', 'src/cli.ts'] });
