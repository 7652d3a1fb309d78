import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUpstreamFetcher } from '../src/upstream';
import { pumpBody } from '../src/body-pump';
import { ASKED_AGAIN_WITHIN_MS, GROW_AFTER_BYTES, LARGE_READ_BYTES, readBufferCounts, releaseRead, SMALL_READ_BYTES, upstreamReadsOn } from '../src/upstream-reads';
import { mediaBytes, serveBytes, startServer, type TestServer } from './support/servers';

// How plain-HTTP upstream sockets read (src/upstream-reads.ts): 64 KiB until the reader has kept
// up for 8 MiB, then 120 KiB into lent buffers; a reader that falls behind (a read found untaken,
// or asked for late) takes the reads back to 64 KiB.

/** The clock of the policy under test, moved by hand. */
let clock = 0;
const reads = upstreamReadsOn(() => clock);

/** A socket that is never connected: what the policy reads of it is its readable side alone. */
class Unconnected extends Socket {
  override _read(): void {}
}

/**
 * What Node does for one read on a socket made with `onread`: the bytes land in the buffer it was
 * handed last, the callback gets them, and the buffer for the next read is asked for right after.
 * `fill` is the byte written into the read. Returns the callback's answer and the next buffer.
 */
function readInto(socket: Socket, buffer: Buffer, length: number, fill: number): { keepReading: boolean; next: Buffer } {
  buffer.fill(fill, 0, length);
  const keepReading = reads.callback.call(socket, length, buffer);
  return { keepReading, next: reads.buffer() };
}

/** Reads of the socket's current size, each taken by its reader, until `bytes` have gone through. */
function keepUp(socket: Socket, first: Buffer, bytes: number): Buffer {
  let buffer = first;
  for (let total = 0; total < bytes; ) {
    const length = buffer.length;
    const { keepReading, next } = readInto(socket, buffer, length, total % 251);
    // Small reads stop the reading as Node's own do (the socket's readable side is full); the
    // read after which reads are large keeps it going, as large ones do.
    expect(keepReading).toBe(next.length === LARGE_READ_BYTES);
    expect((socket.read() as Buffer).length).toBe(length);
    total += length;
    buffer = next;
  }
  return buffer;
}

describe('the read policy', () => {
  test('a socket starts with 64 KiB reads and takes 120 KiB ones once its reader has kept up for 8 MiB', () => {
    const socket = new Unconnected();
    const first = reads.buffer();
    expect(first.length).toBe(SMALL_READ_BYTES);
    const beforeGrowth = keepUp(socket, first, GROW_AFTER_BYTES - SMALL_READ_BYTES);
    expect(beforeGrowth.length).toBe(SMALL_READ_BYTES);
    const grown = keepUp(socket, beforeGrowth, SMALL_READ_BYTES);
    expect(grown.length).toBe(LARGE_READ_BYTES);
    expect(keepUp(socket, grown, 4 * LARGE_READ_BYTES).length).toBe(LARGE_READ_BYTES);
    socket.destroy();
  });

  test('each read reaches the reader as a copy of its own length, so the next read cannot change it', () => {
    const socket = new Unconnected();
    const { next } = readInto(socket, reads.buffer(), 1000, 7);
    readInto(socket, next, 500, 9);
    const taken = socket.read() as Buffer;
    expect(taken.length).toBe(1500);
    expect(taken.subarray(0, 1000).every((byte) => byte === 7)).toBe(true);
    expect(taken.subarray(1000).every((byte) => byte === 9)).toBe(true);
    socket.destroy();
  });

  test('a read that finds the one before it untaken stops the reading, and reads go back to 64 KiB until the reader keeps up for 8 MiB again', () => {
    const socket = new Unconnected();
    const grown = keepUp(socket, reads.buffer(), GROW_AFTER_BYTES);
    expect(grown.length).toBe(LARGE_READ_BYTES);
    // The reader pauses (its client is full): this read stays in the socket.
    const untaken = readInto(socket, grown, LARGE_READ_BYTES, 1);
    expect(untaken.keepReading).toBe(true);
    expect(untaken.next.length).toBe(LARGE_READ_BYTES);
    const behind = readInto(socket, untaken.next, LARGE_READ_BYTES, 2);
    expect(behind.keepReading).toBe(false);
    expect(behind.next.length).toBe(SMALL_READ_BYTES);
    // What the socket holds is the two reads, nothing more.
    expect(socket.readableLength).toBe(2 * LARGE_READ_BYTES);
    socket.read();
    const again = keepUp(socket, behind.next, GROW_AFTER_BYTES - SMALL_READ_BYTES);
    expect(again.length).toBe(SMALL_READ_BYTES);
    socket.destroy();
  });

  test('a reader that asks for the next read late has fallen behind: its reads stay small', () => {
    const socket = new Unconnected();
    const almost = keepUp(socket, reads.buffer(), GROW_AFTER_BYTES - SMALL_READ_BYTES);
    // The reader waited for its client.
    clock += 2 * ASKED_AGAIN_WITHIN_MS;
    const late = keepUp(socket, almost, SMALL_READ_BYTES);
    expect(late.length).toBe(SMALL_READ_BYTES);
    expect(keepUp(socket, late, GROW_AFTER_BYTES).length).toBe(LARGE_READ_BYTES);
    socket.destroy();
  });

  test('sockets grow one by one: a reader that kept up does not grow the reads of another socket', () => {
    const fast = new Unconnected();
    const slow = new Unconnected();
    expect(keepUp(fast, reads.buffer(), GROW_AFTER_BYTES).length).toBe(LARGE_READ_BYTES);
    const { next } = readInto(slow, reads.buffer(), SMALL_READ_BYTES, 3);
    expect(next.length).toBe(SMALL_READ_BYTES);
    fast.destroy();
    slow.destroy();
  });
});

describe('the buffers of large reads', () => {
  test('a large read is lent as it is, and its buffer comes back once every byte of it is handed back', () => {
    const socket = new Unconnected();
    const lentBuffer = keepUp(socket, reads.buffer(), GROW_AFTER_BYTES);
    const { next } = readInto(socket, lentBuffer, LARGE_READ_BYTES, 5);
    const chunk = socket.read() as Buffer;
    expect(chunk.buffer).toBe(lentBuffer.buffer);
    expect(chunk.every((byte) => byte === 5)).toBe(true);
    // Lent: the next read has another buffer, whatever is handed back short of the whole read.
    expect(next.buffer).not.toBe(lentBuffer.buffer);
    releaseRead(chunk.subarray(0, 1000));
    const { next: whileHalfOut } = readInto(socket, next, LARGE_READ_BYTES, 6);
    socket.read();
    expect(whileHalfOut.buffer).not.toBe(lentBuffer.buffer);
    releaseRead(chunk.subarray(1000));
    const { next: afterWhole } = readInto(socket, whileHalfOut, LARGE_READ_BYTES, 7);
    socket.read();
    expect(afterWhole.buffer).toBe(lentBuffer.buffer);
    socket.destroy();
  });

  test('a large buffer that got a small read is copied out and goes back to the pool at once', () => {
    const socket = new Unconnected();
    const large = keepUp(socket, reads.buffer(), GROW_AFTER_BYTES);
    const { next } = readInto(socket, large, 2000, 8);
    const chunk = socket.read() as Buffer;
    expect(chunk.length).toBe(2000);
    expect(chunk.buffer).not.toBe(large.buffer);
    // Back in the pool, and out again at once for the next read.
    expect(next.buffer).toBe(large.buffer);
    socket.destroy();
  });
});

describe('a plain-HTTP upstream read through the fetcher', () => {
  const BODY = mediaBytes(32 * 1024 * 1024);
  const BODY_HASH = createHash('sha256').update(BODY).digest('hex');
  let origin: TestServer;
  beforeAll(async () => {
    origin = await startServer((req, res) => serveBytes(req, res, BODY));
  });
  afterAll(async () => {
    await origin?.close();
  });

  test('a body read as fast as it comes arrives whole, in pieces of 64 KiB at most until 8 MiB and larger ones after', async () => {
    const fetcher = createUpstreamFetcher({ allowlist: ['127.0.0.1'], timeoutMs: 5000 });
    try {
      const response = await fetcher.fetch({ url: `${origin.origin}/movie.mp4`, method: 'GET', headers: {} });
      expect(response.status).toBe(200);
      const hash = createHash('sha256');
      const sizes: { at: number; size: number }[] = [];
      let at = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        sizes.push({ at, size: chunk.length });
        at += chunk.length;
      }
      expect(at).toBe(BODY.length);
      expect(hash.digest('hex')).toBe(BODY_HASH);
      const early = sizes.filter((piece) => piece.at + piece.size <= GROW_AFTER_BYTES - SMALL_READ_BYTES);
      expect(Math.max(...early.map((piece) => piece.size))).toBeLessThanOrEqual(SMALL_READ_BYTES);
      // Node's own reads are 64 KiB at most: a larger piece came from a larger read.
      const largest = Math.max(...sizes.map((piece) => piece.size));
      expect(largest).toBeGreaterThan(SMALL_READ_BYTES);
      expect(largest).toBeLessThanOrEqual(LARGE_READ_BYTES);
    } finally {
      await fetcher.close();
    }
  });

  /** An HTTP server that fetches the body through the fetcher and copies it with `pumpBody`; the outcome of each copy is kept. */
  async function startRelay() {
    const fetcher = createUpstreamFetcher({ allowlist: ['127.0.0.1'], timeoutMs: 5000 });
    const outcomes: string[] = [];
    const relay: Server = createServer((_req, res) => {
      void fetcher.fetch({ url: `${origin.origin}/movie.mp4`, method: 'GET', headers: {} }).then(async (upstream) => {
        res.writeHead(200, { 'content-length': String(BODY.length) });
        outcomes.push((await pumpBody(upstream.body, res)).kind);
        res.end();
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}/`,
      outcomes,
      close: async () => {
        await new Promise((resolve) => relay.close(resolve));
        await fetcher.close();
      },
    };
  }

  /** Reads a body to its end; with `pause`, it stops `pause.at` bytes in until `pause.until`. */
  async function readAll(url: string, pause?: { at: number; reached: () => void; until: Promise<void> }) {
    const response = await request(url);
    const hash = createHash('sha256');
    let bytes = 0;
    let paused = false;
    for await (const chunk of response.body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      if (pause !== undefined && !paused && bytes >= pause.at) {
        paused = true;
        pause.reached();
        await pause.until;
      }
    }
    return { bytes, hash: hash.digest('hex') };
  }

  test('copied to a client by pumpBody, the body arrives whole and its large reads reuse a few buffers', async () => {
    const relay = await startRelay();
    try {
      const before = readBufferCounts();
      expect(await readAll(relay.url)).toEqual({ bytes: BODY.length, hash: BODY_HASH });
      expect(relay.outcomes).toEqual(['done']);
      // About 200 large reads; without the buffers coming back each would be a new one.
      const after = readBufferCounts();
      const [lends, allocated] = [after.lends - before.lends, after.allocated - before.allocated];
      console.log(`upstream reads: ${lends} large reads lent, ${allocated} buffers allocated for them, ${BODY.length / 1024 / 1024} MiB`);
      expect(lends).toBeGreaterThanOrEqual(50);
      expect(allocated).toBeLessThanOrEqual(lends / 10);
    } finally {
      await relay.close();
    }
  });

  test('a lent buffer stays out while its bytes wait to be written: a paused client gets them intact though another stream reads meanwhile', async () => {
    const relay = await startRelay();
    try {
      const lendsBefore = readBufferCounts().lends;
      let reached = () => {};
      let resume = () => {};
      const pausedThere = new Promise<void>((resolve) => (reached = resolve));
      const until = new Promise<void>((resolve) => (resume = resolve));
      // This client stops reading 12 MiB in, once its stream reads large: its last chunks wait in
      // the relay's socket and the kernel's buffers. The other stream reads all 32 MiB meanwhile,
      // its large reads taking buffers from the pool.
      const paused = readAll(relay.url, { at: 12 * 1024 * 1024, reached, until });
      await pausedThere;
      const second = await readAll(relay.url);
      resume();
      const first = await paused;
      expect(second).toEqual({ bytes: BODY.length, hash: BODY_HASH });
      expect(first).toEqual({ bytes: BODY.length, hash: BODY_HASH });
      expect(readBufferCounts().lends - lendsBefore).toBeGreaterThanOrEqual(100);
    } finally {
      await relay.close();
    }
  });
});
