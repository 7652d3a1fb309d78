import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { loggablePath, TurnBatchedLines } from '../src/logger';
import { SOURCE_NODE_ARGS } from './support/cli';

const TOKEN = 'v2.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

describe('loggablePath', () => {
  test.each([
    ['/strm/stream?episode=x&sig=abc', '/strm/stream'],
    [`/strm/proxy/${TOKEN}`, '/strm/proxy/v2.AbCdE…'],
    [`/strm/proxy/${TOKEN}?_HLS_msn=3`, '/strm/proxy/v2.AbCdE…'],
    [`/strm/proxy/${TOKEN}/seg/1.m4s`, '/strm/proxy/v2.AbCdE…/seg/1.m4s'],
    [`/STRM/PROXY/${TOKEN}`, '/STRM/PROXY/v2.AbCdE…'],
    [`/Strm/Proxy/${TOKEN}/init.mp4`, '/Strm/Proxy/v2.AbCdE…/init.mp4'],
    ['/healthz', '/healthz'],
  ])('loggablePath(%j) is %j', (url, expected) => {
    expect(loggablePath(url)).toBe(expected);
  });
});

/** A stream that keeps each write it was given. */
function recordingStream(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      callback();
    },
  });
  return { stream, writes };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatchedLines', () => {
  test('the lines of one turn of the event loop go out in one write, after that turn', async () => {
    const { stream, writes } = recordingStream();
    const lines = new TurnBatchedLines(stream);
    lines.write('{"n":1}\n');
    lines.write('{"n":2}\n');
    await Promise.resolve();
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['{"n":1}\n{"n":2}\n']);
    lines.write('{"n":3}\n');
    await nextTurn();
    expect(writes).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n']);
  });

  test('flush writes what is pending at once, and a turn with nothing pending writes nothing', async () => {
    const { stream, writes } = recordingStream();
    const lines = new TurnBatchedLines(stream);
    lines.write('{"n":1}\n');
    let flushed = false;
    lines.flush(() => (flushed = true));
    expect(flushed).toBe(true);
    expect(writes).toEqual(['{"n":1}\n']);
    await nextTurn();
    expect(writes).toEqual(['{"n":1}\n']);
  });

  test.each([
    ['the process exits', 'process.exit(0)'],
    ['an uncaught exception ends the process', "throw new Error('boom')"],
  ])('the default logger writes the lines of the last turn when %s', async (_when, ending) => {
    const logger = pathToFileURL(join(import.meta.dirname, '..', 'src', 'logger.ts')).href;
    const script = `const { createLogger } = await import(${JSON.stringify(logger)}); const log = createLogger('info'); log.info('first'); log.info('last'); ${ending};`;
    const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { stdout } = await outputUntilClose(child);
    expect(stdout.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['first', 'last']);
  });
});
