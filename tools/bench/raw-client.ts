// The benchmark's fast client: HTTP/1.1 GETs written to a raw keep-alive socket, the response
// head parsed, the body counted and dropped. Its reads land in one reused buffer (`onread`), so no
// chunk is allocated, streamed or copied: a client this cheap outruns nginx `proxy_pass`, which a
// client built on undici's body stream does not (it caps every route near the same MB/s and
// squeezes every ratio toward 1).
import { connect, type Socket } from 'node:net';
import type { Fetched } from './client';

/** One socket read at most: large reads, few wake-ups. */
const READ_BUFFER_BYTES = 256 * 1024;
/** A response head longer than this is a broken server, not a benchmark figure. */
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

interface Pending {
  resolve: (fetched: Fetched) => void;
  reject: (error: Error) => void;
  started: number;
  head: Buffer | undefined;
  status: number;
  remaining: number;
  bytes: number;
  headersAt: number;
  firstByteAt: number | undefined;
  close: boolean;
}

/**
 * One client connection: one request at a time, kept alive between requests (reopened when the
 * server closes it). Only answers with a `Content-Length` are read (every route of the benchmark
 * sends one); anything else fails the request with a clear error.
 */
export class RawConnection {
  readonly #host: string;
  readonly #port: number;
  readonly #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  #socket: Socket | undefined;
  #pending: Pending | undefined;

  constructor(origin: string) {
    const url = new URL(origin);
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
  }

  /** GETs `path` (with its query) and reads the body to its end, discarding it. */
  get(path: string, headers: Record<string, string> = {}): Promise<Fetched> {
    if (this.#pending !== undefined) return Promise.reject(new Error('raw client: one request at a time per connection'));
    const socket = this.#socket ?? this.#open();
    const lines = [`GET ${path} HTTP/1.1`, `host: ${this.#host}:${this.#port}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject, started: performance.now(), head: undefined, status: 0, remaining: -1, bytes: 0, headersAt: 0, firstByteAt: undefined, close: false };
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #open(): Socket {
    const socket = connect({
      host: this.#host,
      port: this.#port,
      noDelay: true,
      onread: { buffer: this.#buffer, callback: (length: number, buffer: Uint8Array) => this.#onRead(length, buffer) },
    });
    const gone = (error?: Error) => {
      // A socket closed after its last answer (or replaced since) fails nothing.
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#fail(error ?? new Error('raw client: the server closed the connection before the body ended'));
    };
    socket.once('error', gone);
    socket.once('close', () => gone());
    this.#socket = socket;
    return socket;
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  #onRead(length: number, buffer: Uint8Array): boolean {
    const pending = this.#pending;
    if (pending === undefined) {
      this.#socket?.destroy(new Error('raw client: bytes arrived with no request pending'));
      return false;
    }
    let chunk = Buffer.from(buffer.buffer, buffer.byteOffset, length);
    if (pending.remaining < 0) {
      const body = this.#readHead(pending, chunk);
      if (body === undefined) return true;
      chunk = body;
    }
    if (chunk.length > 0) pending.firstByteAt ??= performance.now();
    pending.bytes += chunk.length;
    pending.remaining -= chunk.length;
    if (pending.remaining < 0) {
      this.#socket?.destroy(new Error('raw client: the server sent more bytes than its Content-Length'));
      return false;
    }
    if (pending.remaining === 0) this.#complete(pending);
    return true;
  }

  /** Collects the head (copied: the read buffer is reused); returns the body bytes after it, once it is whole. */
  #readHead(pending: Pending, chunk: Buffer): Buffer | undefined {
    const head = pending.head === undefined ? Buffer.from(chunk) : Buffer.concat([pending.head, chunk]);
    const end = head.indexOf(HEAD_END);
    if (end === -1) {
      if (head.length > MAX_HEAD_BYTES) this.#socket?.destroy(new Error('raw client: response head too long'));
      pending.head = head;
      return undefined;
    }
    const text = head.subarray(0, end).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
    if (status === null || length === null) {
      this.#socket?.destroy(new Error(`raw client: expected a response with a Content-Length, received ${JSON.stringify(text.slice(0, 200))}`));
      return undefined;
    }
    pending.status = Number(status[1]);
    pending.remaining = Number(length[1]);
    pending.headersAt = performance.now();
    pending.close = /\r\nconnection:\s*close/i.test(text);
    return head.subarray(end + HEAD_END.length);
  }

  #complete(pending: Pending): void {
    const endedAt = performance.now();
    this.#pending = undefined;
    if (pending.close) this.close();
    pending.resolve({
      status: pending.status,
      bytes: pending.bytes,
      headersMs: pending.headersAt - pending.started,
      firstByteMs: (pending.firstByteAt ?? endedAt) - pending.started,
      totalMs: endedAt - pending.started,
    });
  }
}

/** GETs `url` on a connection of its own and reads the body to its end (one-off requests). */
export async function rawFetch(connection: RawConnection, url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const { pathname, search } = new URL(url);
  return connection.get(`${pathname}${search}`, headers);
}
