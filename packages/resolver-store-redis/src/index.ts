export { RedisStoreError } from './errors';
export type { RedisStoreErrorCode } from './errors';
export { redisKeyNames } from './keys';
export { createRedisStore } from './store';
export type { RedisResolutionStore, RedisStoreOperation, RedisStoreOptions, RedisStoreState, RedisStoreStateChange } from './store';
