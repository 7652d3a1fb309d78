import type { ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

/** What a child process printed, and how it ended. */
export interface ChildOutput {
  /** The exit code, or null when a signal ended it. */
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Collects a child's stdout and stderr as UTF-8 text until it closes (both streams ended, so no
 * output is lost). Call it right after `spawn`, before any await, so that nothing is missed.
 */
export async function outputUntilClose(child: ChildProcessByStdio<null, Readable, Readable>): Promise<ChildOutput> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}
