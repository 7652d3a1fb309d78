import type { Socket } from 'node:net';

/**
 * How much one read takes from a plain-HTTP upstream socket. Node reads a socket 64 KiB at a time;
 * a stream whose reader keeps up reads 120 KiB at once instead: a GiB streamed pays about 8,700
 * rounds of read, parse and write instead of 16,384 (tools/bench/README.md, "Larger reads for a
 * reader that keeps up"). Not 128 KiB or more: each read is copied to a buffer of its own, and
 * an allocation that large is a fresh mapping of memory where malloc's threshold is fixed (the
 * container's `GLIBC_TUNABLES`, musl), which cost 2-6 CPU s/GiB in faults where 120 KiB cost 1.
 * A slow viewer keeps 64 KiB reads: what a paused stream holds is a read or two, and 1,000 of
 * them would hold twice as much.
 */
export const SMALL_READ_BYTES = 64 * 1024;
export const LARGE_READ_BYTES = 120 * 1024;

/**
 * Bytes a socket's reader must take without falling behind before its reads grow. A slow viewer
 * falls behind once the socket buffers between it and the proxy are full, long before this; a
 * stream played as fast as it comes (a download, the first minutes of a player's buffer) grows.
 */
export const GROW_AFTER_BYTES = 8 * 1024 * 1024;

/** Bytes each socket's reader has taken since it last fell behind (no entry: none yet). */
const keptUp = new WeakMap<Socket, number>();

/**
 * Every read lands in one buffer of the process and is copied out at once, to a buffer of its own
 * length: reads happen one at a time on the main thread, and a buffer per read sized for the
 * largest one would keep its unused part for as long as the chunk lives. Allocated on the first
 * read.
 */
let shared: { large: Buffer; small: Buffer } | undefined;

/** The size of the next read, decided by the read before it (`onUpstreamRead`), asked for at once. */
let nextLarge = false;

function readBuffer(): Buffer {
  shared ??= (() => {
    const large = Buffer.allocUnsafeSlow(LARGE_READ_BYTES);
    return { large, small: large.subarray(0, SMALL_READ_BYTES) };
  })();
  const large = nextLarge;
  nextLarge = false;
  return large ? shared.large : shared.small;
}

/**
 * One read of `length` bytes into `buffer`: its copy goes to the socket's readable side, where
 * undici's parser takes it as it takes Node's own reads. The socket keeps reading while its
 * reader took the previous read; once a read finds the one before still there (the parser paused
 * for a full client), reading stops until the reader asks for more, and reads go back to small.
 */
function onUpstreamRead(this: Socket, length: number, buffer: Buffer): boolean {
  const chunk = Buffer.allocUnsafe(length);
  buffer.copy(chunk, 0, 0, length);
  const behind = this.readableLength > 0;
  const kept = behind ? 0 : (keptUp.get(this) ?? 0) + length;
  keptUp.set(this, kept);
  nextLarge = kept >= GROW_AFTER_BYTES;
  this.push(chunk);
  return !behind;
}

/** The `onread` option of `net.connect` for upstream sockets (undici's connector passes it on). */
export const upstreamReads = { buffer: readBuffer, callback: onUpstreamRead } as const;
