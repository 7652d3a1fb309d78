// One HTTP/1.x exchange over a raw socket: the fuzz sends bytes no well-behaved client would
// (lowercase methods, HTTP/1.2, control bytes, 20 KB headers, CONNECT), so it cannot use undici.
import { connect } from 'node:net';

/** Body bytes kept at most; past them the exchange ends (a long media body needs no reading here). */
const MAX_BODY = 256 * 1024;

/** What came back for one request. */
export interface RawAnswer {
  /** `answered` (a full head, a body framed by its length, its chunks or the close), `closed` (no answer), `hang`. */
  outcome: 'answered' | 'closed' | 'hang';
  status: number | undefined;
  headers: Record<string, string>;
  body: Buffer;
  /** The body was longer than what was kept. */
  capped: boolean;
  /** The body ended short of its framing (Content-Length or the last chunk): a cut the client saw as one. */
  cut: boolean;
  ms: number;
  /** For a socket that closed without an answer: the socket's error code, if any, and the bytes it had received. */
  closedBy?: string;
}

interface Head {
  status: number;
  headers: Record<string, string>;
  rest: Buffer;
}

/** The final head (interim 1xx answers, e.g. to `Expect: 100-continue`, skipped). */
function parseHead(buffer: Buffer): Head | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')?.[1] ?? Number.NaN);
  if (status >= 100 && status < 200 && status !== 101) return parseHead(buffer.subarray(end + 4));
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, rest: buffer.subarray(end + 4) };
}

/** Decodes complete chunks; `done` once the last chunk (size 0) was seen. */
function dechunk(raw: Buffer): { body: Buffer; done: boolean } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd === -1) return { body: Buffer.concat(parts), done: false };
    const size = Number.parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), done: false };
    if (size === 0) return { body: Buffer.concat(parts), done: true };
    if (raw.length < lineEnd + 2 + size + 2) return { body: Buffer.concat(parts), done: false };
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** Whether the bytes so far hold the whole answer, and what its body is. */
function framing(head: Head, method: string, data: Buffer): { complete: boolean; body: Buffer } {
  const rest = data;
  if (method === 'HEAD' || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200)) return { complete: true, body: Buffer.alloc(0) };
  const length = head.headers['content-length'];
  if (length !== undefined) return { complete: rest.length >= Number(length), body: rest.subarray(0, Number(length)) };
  if (/chunked/i.test(head.headers['transfer-encoding'] ?? '')) {
    const { body, done } = dechunk(rest);
    return { complete: done, body };
  }
  return { complete: false, body: rest }; // delimited by the close
}

/**
 * Sends `bytes` to `host:port` and reads one answer. `method` says how to frame it (HEAD has no
 * body). Ends at the answer's end, at `MAX_BODY` bytes of body, at the close, or after `timeoutMs`
 * (a hang).
 */
export function exchange(port: number, bytes: Buffer, method: string, timeoutMs: number): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    let settled = false;
    let errorCode: string | undefined;
    const finish = (outcome: RawAnswer['outcome'], closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const head = parseHead(data);
      if (head === undefined) {
        const closedBy = `${errorCode ?? 'close'} after ${data.length} bytes`;
        resolve({ outcome: outcome === 'hang' ? 'hang' : 'closed', status: undefined, headers: {}, body: Buffer.alloc(0), capped: false, cut: false, ms: performance.now() - started, closedBy });
        return;
      }
      const { complete, body } = framing(head, method.toUpperCase(), head.rest);
      const capped = body.length >= MAX_BODY && !complete;
      const closeDelimited = head.headers['content-length'] === undefined && !/chunked/i.test(head.headers['transfer-encoding'] ?? '');
      const cut = !complete && !capped && !(closed && closeDelimited);
      resolve({ outcome: outcome === 'hang' && !capped ? 'hang' : 'answered', status: head.status, headers: head.headers, body, capped, cut: outcome !== 'hang' && cut, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish('hang', false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const head = parseHead(data);
      if (head === undefined) return;
      const { complete, body } = framing(head, method.toUpperCase(), head.rest);
      if (complete || body.length >= MAX_BODY) finish('answered', false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode = error.code ?? error.message;
      finish('closed', true);
    });
    socket.on('close', () => finish('closed', true));
    socket.write(bytes);
  });
}
