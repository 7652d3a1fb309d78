import { tsupConfig } from '../../tsup.shared';

export default tsupConfig();
