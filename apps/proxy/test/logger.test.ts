import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { createLogger, loggablePath, TurnBatchedLines } from '../src/logger';
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
    ['/strm/proxy/short/seg.ts', '/strm/proxy/short/seg.ts'],
    ['/strm/proxy/12345678/seg.ts', '/strm/proxy/12345678…/seg.ts'],
    ['/strm/proxy/12345678', '/strm/proxy/12345678…'],
    ['/strm/proxy/1234567', '/strm/proxy/1234567'],
    ['/strm/proxy/', '/strm/proxy/'],
    ['/strm/proxyx/123456789', '/strm/proxyx/123456789'],
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

  test('an error line goes out at once, with the lines before it', async () => {
    const { stream, writes } = recordingStream();
    const logger = createLogger('info', new TurnBatchedLines(stream));
    logger.info('before');
    expect(writes).toEqual([]);
    logger.error('failed');
    expect(writes.map((text) => text.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg))).toEqual([['before', 'failed']]);
    logger.warn('after');
    await nextTurn();
    expect(writes).toHaveLength(2);
  });

  test('flush writes what is pending at once and calls back once the stream took it', async () => {
    const { stream, writes } = recordingStream();
    const lines = new TurnBatchedLines(stream);
    lines.write('{"n":1}\n');
    const flushed = new Promise((resolve) => lines.flush(resolve));
    expect(writes).toEqual(['{"n":1}\n']);
    await flushed;
    await nextTurn();
    expect(writes).toEqual(['{"n":1}\n']);
  });

  test('end writes what is pending, and every later line at once', () => {
    const { stream, writes } = recordingStream();
    const lines = new TurnBatchedLines(stream);
    lines.write('{"n":1}\n');
    lines.end();
    expect(writes).toEqual(['{"n":1}\n']);
    lines.write('{"n":2}\n');
    expect(writes).toEqual(['{"n":1}\n', '{"n":2}\n']);
  });

  test.each([
    ['the process exits', 'process.exit(0)'],
    ['an uncaught exception ends the process', "throw new Error('boom')"],
  ])('on standard output, ended by an exit listener, the lines of the last turn are written when %s', async (_when, ending) => {
    const logger = pathToFileURL(join(import.meta.dirname, '..', 'src', 'logger.ts')).href;
    const script = [
      `const { createLogger, TurnBatchedLines } = await import(${JSON.stringify(logger)});`,
      "const lines = new TurnBatchedLines(process.stdout); process.on('exit', () => lines.end());",
      "const log = createLogger('info', lines); log.info('first'); log.info('last');",
      `${ending};`,
    ].join('\n');
    const child = spawn(process.execPath, [...SOURCE_NODE_ARGS, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { stdout } = await outputUntilClose(child);
    expect(stdout.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['first', 'last']);
  });
});
