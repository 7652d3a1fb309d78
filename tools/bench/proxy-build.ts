// The proxy runs in the benchmark the way production runs it: compiled (`pnpm nx run
// @strm/proxy:build`, tsup into each package's dist/) and started through the published bin,
// `apps/proxy/bin/strm-proxy.js serve`. Measuring a bundle or the sources under tsx would measure
// a program nobody deploys.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Builds the proxy and the packages it uses in the checkout at `checkout` (nx skips what its cache
 * already holds) and returns the bin to start. Throws with the build's output when it fails.
 */
export async function buildProxy(checkout: string): Promise<string> {
  try {
    await run('pnpm', ['nx', 'run', '@strm/proxy:build', '--output-style=static'], { cwd: checkout, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`building the proxy in ${checkout} failed:\n${`${stdout}\n${stderr}`.trim().slice(-3000)}`);
  }
  const bin = join(checkout, 'apps/proxy/bin/strm-proxy.js');
  if (!existsSync(join(checkout, 'apps/proxy/dist/cli.js'))) throw new Error(`the build in ${checkout} left no apps/proxy/dist/cli.js for ${bin}`);
  return bin;
}
