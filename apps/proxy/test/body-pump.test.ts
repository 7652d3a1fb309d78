import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { pumpBody, type PumpOptions, type PumpOutcome } from '../src/body-pump';
import type { RequestFailure } from '../src/request-context';
import { BodyPosition, deliverResumingBody, type ResumeAsk } from '../src/resume';
import type { UpstreamResponse } from '../src/upstream';
import { mediaBytes } from './support/servers';

// The byte path on a real socket (a node:http server on port 0 and an undici client), with the
// upstream bodies made in memory.

const BYTES = mediaBytes(50_000);
const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/**
 * Serves one request with `serve`, and resolves what it came to once it settled. The body goes in
 * chunks unless `length` gives its Content-Length (then the copy writes to the socket straight).
 */
async function serveOnce<T>(serve: (res: ServerResponse) => Promise<T>, length?: number): Promise<{ url: string; settled: Promise<T> }> {
  let settle: (value: T) => void = () => {};
  const settled = new Promise<T>((resolve) => {
    settle = resolve;
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, length === undefined ? {} : { 'content-length': length });
    void serve(res).then(settle);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => server.close() });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, settled };
}

const chunksOf = (bytes: Buffer, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
const bodyOf = (chunks: Buffer[]) => Readable.from(chunks) as unknown as UpstreamResponse['body'];

/** Copies `body` into `res`, ends the response, and says how the copy went. */
async function pumpThenEnd(body: Readable, res: ServerResponse, options?: PumpOptions): Promise<PumpOutcome> {
  const outcome = await pumpBody(body as unknown as UpstreamResponse['body'], res, options);
  res.end();
  return outcome;
}

/** The whole body at `url`. */
const fetchBody = async (url: string): Promise<Buffer> => Buffer.from(await (await request(url)).body.arrayBuffer());

/** A body that sends `chunks`, then fails as a cut connection does. */
function breakingBody(chunks: Buffer[]): UpstreamResponse['body'] {
  const body = new Readable({ read() {} });
  for (const chunk of chunks) body.push(chunk);
  setImmediate(() => body.destroy(new Error('socket hang up')));
  return body as unknown as UpstreamResponse['body'];
}

/** Calls `listener` each time the copy pauses `body`, before it pauses. */
function onPause(body: Readable, listener: () => void): void {
  const pause = body.pause.bind(body);
  body.pause = () => {
    listener();
    return pause();
  };
}

/** A body that never ends: each read is answered with the whole of BYTES again. */
function endlessBody(): Readable {
  return new Readable({
    read() {
      this.push(BYTES);
    },
  });
}

/** Each copy of BYTES in 4096-byte chunks (13), and how many pieces of it the response gets. */
const COPIES: Array<[string, PumpOptions, Buffer, number]> = [
  ['everything', {}, BYTES, 13],
  ['skip 1000 (a sliced 200)', { skip: 1000 }, BYTES.subarray(1000), 13],
  ['limit 4500 (ends inside a chunk)', { limit: 4500 }, BYTES.subarray(0, 4500), 2],
  ['skip 999 limit 7001 across chunk boundaries', { skip: 999, limit: 7001 }, BYTES.subarray(999, 8000), 2],
  ['initial chunks first, then the body', { initial: [Buffer.from('head')] }, Buffer.concat([Buffer.from('head'), BYTES]), 14],
];
const FRAMINGS = ['in chunks', 'with a Content-Length'] as const;
type Framing = (typeof FRAMINGS)[number];
const lengthFor = (framing: Framing, length: number) => (framing === 'in chunks' ? undefined : length);

describe('pumpBody', () => {
  // In chunks every piece goes through res.write, which frames it; with a Content-Length only the
  // first does (it carries the head), and the others go to the socket straight.
  test.each(FRAMINGS.flatMap((framing) => COPIES.map(([name, options, expected, pieces]) => [name, framing, framing === 'in chunks' ? pieces : 1, options, expected] as const)))(
    'pumpBody(body, res, %s), the response %s, writes exactly those bytes, %i of its pieces with res.write',
    async (_name, framing, writeCalls, options, expected) => {
      let writes = 0;
      const { url, settled } = await serveOnce(async (res) => {
        const write = res.write.bind(res) as (chunk: Buffer) => boolean;
        res.write = ((chunk: Buffer) => {
          writes += 1;
          return write(chunk);
        }) as typeof res.write;
        // A copy of the initial chunks: the copy takes them out of the array it is given.
        return pumpThenEnd(bodyOf(chunksOf(BYTES, 4096)), res, { ...options, initial: options.initial && [...options.initial] });
      }, lengthFor(framing, expected.length));
      const received = await fetchBody(url);
      expect(received.equals(expected)).toBe(true);
      expect(await settled).toEqual({ kind: 'done', written: expected.length });
      expect(writes).toBe(writeCalls);
    },
  );

  test('a HEAD with a Content-Length gets no body bytes: the response pipelined behind it on the connection reads whole', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': BYTES.length });
      void pumpBody(bodyOf(chunksOf(BYTES, 4096)), res).then(() => res.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => server.close() });
    // Both requests at once on one connection: the GET's response waits for the HEAD's (its copy
    // starts without a socket), and the server closes the connection after it.
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.write('HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const received = Buffer.concat(chunks);
    const headEnd = received.indexOf('\r\n\r\n') + 4;
    expect(received.toString('latin1', 0, headEnd)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*content-length: 50000\r\n/i);
    const second = received.subarray(headEnd);
    expect(second.toString('latin1', 0, 15)).toBe('HTTP/1.1 200 OK');
    expect(second.subarray(second.indexOf('\r\n\r\n') + 4).equals(BYTES)).toBe(true);
  });

  test('the initial chunks leave the caller\'s array as they are written, while the stream still runs', async () => {
    // The handlers that hold the array wait for the whole stream: a chunk left in it stays in
    // memory as long as a paused viewer keeps its connection (64 KiB per stream at 1,000 viewers).
    const head = [Buffer.alloc(65_536, 1), Buffer.alloc(100, 2)];
    const endless = endlessBody();
    let leftInHead = -1;
    const { url, settled } = await serveOnce((res) => {
      const pumped = pumpBody(endless as unknown as UpstreamResponse['body'], res, { initial: head });
      leftInHead = head.length;
      return pumped;
    });
    const controller = new AbortController();
    try {
      const response = await request(url, { signal: controller.signal });
      const first = (await response.body[Symbol.asyncIterator]().next()).value as Buffer;
      expect(leftInHead).toBe(0);
      expect(first[0]).toBe(1);
    } finally {
      controller.abort();
    }
    expect((await settled).kind).toBe('client-gone');
  });

  test('a copy to a client already gone settles as client-gone', async () => {
    const { url, settled } = await serveOnce((res) => {
      res.destroy();
      return pumpBody(endlessBody() as unknown as UpstreamResponse['body'], res);
    });
    await expect(request(url)).rejects.toThrow();
    expect((await settled).kind).toBe('client-gone');
  });

  test('an upstream body that breaks off settles as upstream-error with the bytes written', async () => {
    const { url, settled } = await serveOnce((res) => pumpThenEnd(breakingBody([BYTES.subarray(0, 3000)]), res));
    await (await request(url)).body.arrayBuffer();
    expect(await settled).toMatchObject({ kind: 'upstream-error', written: 3000 });
  });

  test.each(FRAMINGS)('a client that keeps up gets every 64 KiB chunk without the upstream body pausing on each, the response %s', async (framing) => {
    // write() answers false for every chunk at or above the socket's 16 KiB high-water mark, taken
    // whole or not: pausing on that alone paused and resumed the upstream on every read (16 times
    // here). A kernel short of memory may leave a write in part, so a few pauses are allowed.
    const bytes = mediaBytes(16 * 65_536);
    const chunks = chunksOf(bytes, 65_536);
    const body = new Readable({
      read() {
        // One chunk per turn of the loop, as socket reads come.
        setImmediate(() => this.push(chunks.shift() ?? null));
      },
    });
    let pauses = 0;
    onPause(body, () => (pauses += 1));
    const { url, settled } = await serveOnce((res) => pumpThenEnd(body, res), lengthFor(framing, bytes.length));
    const received = await fetchBody(url);
    expect(received.equals(bytes)).toBe(true);
    expect(await settled).toEqual({ kind: 'done', written: bytes.length });
    expect(pauses).toBeLessThan(8);
  });

  test.each(FRAMINGS)('a client that stops reading pauses the upstream body once the kernel leaves bytes over, with at most that chunk waiting, the response %s', async (framing) => {
    // Bounded, so that a copy that never paused would end (and fail below) instead of filling memory.
    const limit = 64 * 1024 * 1024;
    let read = 0;
    const body = new Readable({
      read() {
        read += BYTES.length;
        this.push(read > limit ? null : BYTES);
      },
    });
    let waitingBytes = () => -1;
    const tally = { bytes: 0 };
    let writtenAtPause = -1;
    const paused = new Promise<number>((resolve) =>
      onPause(body, () => {
        if (writtenAtPause < 0) writtenAtPause = tally.bytes;
        resolve(waitingBytes());
      }),
    );
    const { url, settled } = await serveOnce((res) => {
      waitingBytes = () => res.writableLength;
      return pumpBody(body as unknown as UpstreamResponse['body'], res, { tally });
    }, lengthFor(framing, limit + BYTES.length));
    const controller = new AbortController();
    try {
      // The head is read and the body is not: the kernel's buffers fill, then the response's.
      await request(url, { signal: controller.signal });
      const waiting = await Promise.race([paused, settled.then(() => -1)]);
      // Chunks went out whole until the kernel's buffers were full (the old copy paused at the first).
      expect(writtenAtPause).toBeGreaterThan(BYTES.length);
      // One chunk, and in chunks its framing (the length in hex, two CRLFs).
      const framingBytes = framing === 'in chunks' ? `${BYTES.length.toString(16)}\r\n\r\n`.length : 0;
      expect(waiting).toBeGreaterThan(0);
      expect(waiting).toBeLessThanOrEqual(BYTES.length + framingBytes);
      expect(body.isPaused()).toBe(true);
    } finally {
      controller.abort();
    }
    expect((await settled).kind).toBe('client-gone');
  });

  test.each(FRAMINGS)('a client that leaves settles as client-gone and destroys the upstream body, the response %s', async (framing) => {
    const endless = endlessBody();
    const { url, settled } = await serveOnce((res) => pumpBody(endless as unknown as UpstreamResponse['body'], res), lengthFor(framing, 1024 * 1024 * 1024));
    const controller = new AbortController();
    const response = await request(url, { signal: controller.signal });
    for await (const _chunk of response.body) break;
    controller.abort();
    const outcome: PumpOutcome = await settled;
    expect(outcome.kind).toBe('client-gone');
    expect(endless.destroyed).toBe(true);
  });
});

describe('deliverResumingBody', () => {
  test.each(FRAMINGS)('a body cut twice is resumed from where it broke, with If-Range, and arrives whole, the response %s', async (framing) => {
    const asks: ResumeAsk[] = [];
    const resumer = {
      async resume(ask: ResumeAsk | undefined) {
        asks.push(ask!);
        const from = Number(/^bytes=(\d+)-/.exec(ask!.range)![1]);
        const rest = asks.length === 1 ? breakingBody([BYTES.subarray(from, from + 10_000)]) : bodyOf([BYTES.subarray(from)]);
        return { body: rest, skip: 0 };
      },
    };
    const tally = { bytes: 0, failure: undefined as RequestFailure | undefined };
    const { url, settled } = await serveOnce(async (res) => {
      const position = new BodyPosition({ first: 0, last: BYTES.length - 1, headers: { etag: '"v1"' } });
      await deliverResumingBody(res, resumer, { body: breakingBody([BYTES.subarray(0, 20_000)]), head: [], skip: 0, position }, tally);
    }, lengthFor(framing, BYTES.length));
    const received = await fetchBody(url);
    await settled;
    expect(received.equals(BYTES)).toBe(true);
    expect(asks).toEqual([{ range: 'bytes=20000-49999', ifRange: '"v1"' }, { range: 'bytes=30000-49999', ifRange: '"v1"' }]);
    expect(tally.bytes).toBe(BYTES.length);
    expect(tally.failure).toBeUndefined();
  });

  test.each(FRAMINGS)('when the rest cannot be had, the client connection is aborted: a short body never looks complete, the response %s', async (framing) => {
    const resumer = { resume: async () => undefined };
    const tally = { bytes: 0, failure: undefined as RequestFailure | undefined };
    const { url } = await serveOnce(async (res) => {
      const position = new BodyPosition({ first: 0, last: BYTES.length - 1, headers: {} });
      await deliverResumingBody(res, resumer, { body: breakingBody([BYTES.subarray(0, 20_000)]), head: [], skip: 0, position }, tally);
    }, lengthFor(framing, BYTES.length));
    await expect((await request(url)).body.arrayBuffer()).rejects.toThrow();
    expect(tally.failure?.code).toBe('STRM_UPSTREAM_FAILED');
    expect(tally.bytes).toBe(20_000);
  });
});

describe('BodyPosition: the resume budget', () => {
  test('three resumes in a row without progress spend it', () => {
    const position = new BodyPosition({ first: 100, last: 199, headers: { 'last-modified': 'Tue, 01 Sep 2026 10:00:00 GMT' } });
    position.advance(10);
    expect(position.nextAsk()).toEqual({ range: 'bytes=110-199', ifRange: 'Tue, 01 Sep 2026 10:00:00 GMT' });
    position.advance(0);
    position.advance(0);
    expect(position.nextAsk()).toBeDefined();
    position.advance(0);
    expect(position.nextAsk()).toBeUndefined();
  });

  test('a weak ETag is no validator; fifty resumes in all spend the budget', () => {
    const position = new BodyPosition({ first: 0, last: undefined, headers: { etag: 'W/"v1"' } });
    for (let i = 0; i < 50; i += 1) {
      position.advance(1);
      expect(position.nextAsk()).toEqual({ range: `bytes=${i + 1}-` });
    }
    position.advance(1);
    expect(position.nextAsk()).toBeUndefined();
  });
});
