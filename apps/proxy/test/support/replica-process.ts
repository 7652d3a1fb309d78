// One proxy replica in a process of its own, configured by the environment like `strm-proxy`,
// with a short single-flight lock so that a test can kill it while it holds one. Logs (JSON
// lines) go to stdout; the test reads the listening address from them.
import { loadConfig } from '../../src/config';
import { startProxy } from '../../src/server';

const lockTtlMs = Number(process.env.TEST_LOCK_TTL_MS ?? '1000');
await startProxy(loadConfig(process.env), { redis: { lockTtlMs } });
