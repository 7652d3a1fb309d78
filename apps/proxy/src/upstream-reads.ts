import type { Socket } from 'node:net';

/**
 * How much one read takes from a plain-HTTP upstream socket. Node reads a socket 64 KiB at a time;
 * a stream whose reader keeps up reads 120 KiB at once instead: a GiB streamed pays about 8,700
 * rounds of read, parse and write instead of 16,384 (tools/bench/README.md, "Larger reads for a
 * reader that keeps up"). Not 128 KiB or more: a large read finding the pool empty allocates a
 * buffer of its own, and an allocation that large is a fresh mapping of memory where malloc's
 * threshold is fixed (the container's `GLIBC_TUNABLES`, musl), which cost 4-9 CPU s/GiB in faults
 * where reads of 120 KiB cost about 1. A slow viewer keeps 64 KiB reads: a paused stream holds
 * one, and 1,000 of them holding large ones would hold twice as much.
 */
export const SMALL_READ_BYTES = 64 * 1024;
export const LARGE_READ_BYTES = 120 * 1024;

/**
 * Bytes a socket's reader must take without falling behind before its reads grow. A slow viewer
 * falls behind once the socket buffers between it and the proxy are full, long before this; a
 * stream played as fast as it comes (a download, the first minutes of a player's buffer) grows.
 */
export const GROW_AFTER_BYTES = 8 * 1024 * 1024;

/**
 * A socket whose next read comes later than this after the one before has fallen behind: its
 * reader waited for a full client (or its upstream sends slowly, which larger reads would not
 * help). A reader that keeps up asks again within the same turn of the event loop; 50 ms leaves
 * room for a collection or a busy loop between two reads.
 */
export const ASKED_AGAIN_WITHIN_MS = 50;

/**
 * Small reads land in one buffer of the process and are copied out at once, to a buffer of their
 * own length (reads happen one at a time on the main thread). Allocated on the first read.
 */
let shared: Buffer | undefined;

/**
 * Large reads land in buffers lent out whole: the read's bytes go to the reader as they are, and
 * the buffer comes back once the client's socket has taken all of them (`releaseRead`, which the
 * body copy calls). A stream that keeps up then reads into the same few buffers over and over:
 * a buffer per read would be about 9,000 allocations per GiB, garbage that V8 collects every 30
 * MiB or so, and heap that glibc hands back and faults in again when that is more than it keeps
 * (tools/bench/README.md, "Larger reads for a reader that keeps up").
 */
const pool: Buffer[] = [];
/** At most this many buffers wait in the pool (7.5 MiB): a read beyond them allocates its own. */
const POOLED_BUFFERS = 64;
/** Bytes of each lent buffer the client has not taken yet. */
const lent = new WeakMap<ArrayBufferLike, number>();
/** Large buffers allocated, and reads lent, since the process started (for tests: lent buffers come back). */
let allocated = 0;
let lends = 0;

function smallBuffer(): Buffer {
  return (shared ??= Buffer.allocUnsafeSlow(SMALL_READ_BYTES));
}

function largeBuffer(): Buffer {
  const pooled = pool.pop();
  if (pooled !== undefined) return pooled;
  allocated += 1;
  return Buffer.allocUnsafeSlow(LARGE_READ_BYTES);
}

function giveBack(buffer: Buffer): void {
  if (pool.length < POOLED_BUFFERS) pool.push(buffer);
}

/**
 * The `onread` option of `net.connect` for upstream sockets (undici's connector passes it on),
 * with its own clock (tests pass one they move by hand).
 *
 * Each read goes to the socket's readable side, where undici's parser takes it as it takes Node's
 * own reads: a small read (or a large buffer that got little) as a copy, a large one as the buffer
 * itself, lent. While its reads are small, the socket stops reading after each one that fills
 * its readable side, as Node's own reading does, and a paused stream holds that one read; its
 * reader has kept up when the next read came within `ASKED_AGAIN_WITHIN_MS`. Once its reads are
 * large, the socket keeps reading while its reader took the read before: stopping and starting
 * again after a read costs two `epoll_ctl` calls (2,821 over a 256 MiB stream's 4,230 reads).
 * A large read that finds the one before still there (the parser paused for a full client) stops
 * the reading, and the reads go back to small.
 */
export function upstreamReadsOn(now: () => number): { buffer: () => Buffer; callback: (this: Socket, length: number, buffer: Buffer) => boolean } {
  /** Per socket: bytes its reader has taken since it last fell behind, and when it read last. */
  const keptUp = new WeakMap<Socket, { bytes: number; at: number }>();
  /** The size of the next read, decided by the read before it, whose buffer Node asks for at once. */
  let nextLarge = false;
  return {
    buffer() {
      const large = nextLarge;
      nextLarge = false;
      return large ? largeBuffer() : smallBuffer();
    },
    callback(length, buffer) {
      let chunk: Buffer;
      if (buffer === shared || length < LARGE_READ_BYTES / 2) {
        chunk = Buffer.allocUnsafe(length);
        buffer.copy(chunk, 0, 0, length);
        if (buffer !== shared) giveBack(buffer);
      } else {
        chunk = buffer.subarray(0, length);
        lent.set(buffer.buffer, length);
        lends += 1;
      }
      const at = now();
      let state = keptUp.get(this);
      if (state === undefined) keptUp.set(this, (state = { bytes: 0, at }));
      const behind = this.readableLength > 0 || at - state.at > ASKED_AGAIN_WITHIN_MS;
      state.bytes = behind ? 0 : state.bytes + length;
      state.at = at;
      // The last read of a fast response leaves its socket, idle in the pool, holding a large
      // buffer for its next read; the next response's head then lands in it, and that buffer
      // never comes back (a few allocations per response, for the few that are that fast).
      nextLarge = state.bytes >= GROW_AFTER_BYTES;
      const accepted = this.push(chunk);
      return nextLarge || accepted;
    },
  };
}

/** Whether `chunk` lies in a lent read buffer: its copy to the client should hand it back once written. */
export const isLent = (chunk: Buffer): boolean => lent.has(chunk.buffer);

/**
 * `chunk`, a piece of the body read into a lent buffer, has been taken by the client's socket (or
 * will never be written). Once every byte of the buffer's read has been handed back this way,
 * the buffer goes back to the pool. A read whose buffer also held bytes no one hands back (a
 * response head, chunk framing) never comes back: the garbage collector frees it.
 */
export function releaseRead(chunk: Buffer): void {
  const owner = chunk.buffer;
  const left = lent.get(owner);
  if (left === undefined) return;
  if (left > chunk.byteLength) {
    lent.set(owner, left - chunk.byteLength);
    return;
  }
  lent.delete(owner);
  giveBack(Buffer.from(owner, 0, LARGE_READ_BYTES));
}

/** Large read buffers allocated so far, and reads lent so far. */
export const readBufferCounts = (): { allocated: number; lends: number } => ({ allocated, lends });

/** The `onread` option of the proxy's upstream sockets. */
export const upstreamReads = upstreamReadsOn(() => performance.now());
