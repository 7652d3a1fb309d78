import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, onTestFinished, test } from 'vitest';
import { freeLoopbackPort } from '../../../tools/testing/redis-server';
import { SOURCE_NODE_ARGS } from './support/cli';

const PACKAGE = join(import.meta.dirname, '..');

/** The TypeScript block under the operator guide's "Embedding" heading. */
function embeddingExample(): string {
  const guide = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
  const start = guide.indexOf('\n## Embedding\n');
  const end = guide.indexOf('\n## ', start + 1);
  const section = guide.slice(start, end === -1 ? undefined : end);
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (block === null) throw new Error('README.md has no ```ts block under "## Embedding"');
  return block[1]!;
}

// Inside the package folder, so that the example's `import … from '@strm/proxy'` finds this
// package by its own name, as it finds the installed one in a user's program.
const work = mkdtempSync(join(PACKAGE, '.embedding-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the embedding example of the operator guide runs: it listens, serves, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const example = join(work, 'example.mts');
  writeFileSync(example, embeddingExample());
  // A resolver nobody listens on: the proxy warns at start that it does not answer, and still serves.
  const resolverPort = await freeLoopbackPort();
  const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, example], {
    env: { PATH: process.env.PATH ?? '', STRM_PROXY_AUTH: 'none', STRM_RESOLVER_URL: `http://127.0.0.1:${resolverPort}`, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Whatever fails below, no proxy is left running.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit');
  let url: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    url = /^strm-proxy listening on (http:\/\/\S+)$/.exec(line)?.[1];
    if (url !== undefined) break;
  }
  expect(url, `the example printed no URL; its stderr:\n${stderr}`).toBeDefined();

  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
  const refused = await fetch(`${url}/nowhere`);
  expect(refused.status).toBe(404);
  expect(await refused.json()).toMatchObject({ error: { code: 'STRM_NOT_FOUND' } });

  child.kill('SIGTERM');
  const [code] = await exited;
  expect(code).toBe(0);
  expect(stderr).not.toMatch(/\n\s+at /);
});
