import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { outputUntilClose } from '../../../../tools/testing/child-output';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
// By URL: a CLI run in a folder of its own would not find a bare `tsx`.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The node arguments that run a TypeScript file of the workspace from its sources. */
export const SOURCE_NODE_ARGS = ['--conditions=@strm/source', '--import', TSX];

/** The node arguments that run the CLI from its sources. */
export const CLI_NODE_ARGS = [...SOURCE_NODE_ARGS, CLI];

/**
 * Runs `strm-proxy` from its sources in a child process with only PATH and `env`. Asynchronous on
 * purpose: a blocking spawnSync stalls the test worker, whose messages to vitest then time out on
 * a loaded machine.
 */
export async function runCli(args: string[], env: Record<string, string> = {}, cwd = join(import.meta.dirname, '..', '..')) {
  const child = spawn(process.execPath, [...CLI_NODE_ARGS, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return outputUntilClose(child);
}
