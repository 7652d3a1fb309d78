// Two minimal byte paths a Node proxy could take for a media body, measured beside the bare pipe and
// the proxy (`pnpm bench --only stream --byte-paths`): what the next step of the proxy's byte path
// could gain, not servers to run. Each forwards the path and the Range header to one origin and
// writes the body to the client socket, with backpressure; nothing else (no keep-alive upstream,
// no chunked bodies, no TLS, no timeouts).
//   node tools/bench/byte-paths.ts <origin> reused    → a `net` upstream read into reused buffers
//   node tools/bench/byte-paths.ts <origin> dispatch  → undici's `dispatch`, no body stream
// Each prints {"url": "http://127.0.0.1:<port>"}.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { listenAndAnnounce, PASSED_HEADERS, passedHeaders } from './minimal-server';

const READ_SIZE = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

const USAGE = 'usage: node tools/bench/byte-paths.ts <origin URL> reused|dispatch';
const [originArg, mode] = [process.argv[2], process.argv[3]];
if (!URL.canParse(originArg ?? '')) throw new TypeError(`${USAGE}: the origin is an absolute URL, not ${JSON.stringify(originArg)}`);
const origin = new URL(originArg!);

/** The status and the passed headers of a response head (`HTTP/1.1 200 OK\r\n...`). */
function parseHead(text: string): { status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (PASSED_HEADERS.includes(name)) headers[name] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers };
}

/**
 * A `net` socket to the origin whose reads land in buffers of a free list (`onread` with a
 * function): a buffer goes back to the list once the client socket has taken all of its bytes,
 * so a stream reuses a few buffers instead of allocating one per read. Content-Length bodies only.
 */
function reusedBuffers(req: IncomingMessage, res: ServerResponse): void {
  const free: Buffer[] = [];
  let head: Buffer | undefined = Buffer.alloc(0);
  let remaining = 0;
  const upstream = connect({
    host: origin.hostname,
    port: Number(origin.port),
    noDelay: true,
    onread: {
      buffer: () => free.pop() ?? Buffer.allocUnsafe(READ_SIZE),
      callback: (length: number, read: Uint8Array) => {
        const buffer = read as Buffer;
        let body = buffer.subarray(0, length);
        if (head !== undefined) {
          head = Buffer.concat([head, body]);
          const end = head.indexOf(HEAD_END);
          if (end === -1) return true;
          const parsed = parseHead(head.subarray(0, end).toString('latin1'));
          remaining = Number(parsed.headers['content-length'] ?? 0);
          res.writeHead(parsed.status, parsed.headers);
          body = head.subarray(end + HEAD_END.length);
          head = undefined;
        }
        const chunk = body.subarray(0, remaining);
        remaining -= chunk.length;
        const ok = res.write(chunk, () => free.push(buffer));
        if (remaining === 0) {
          res.end();
          upstream.destroy();
          return false;
        }
        if (!ok) res.once('drain', () => upstream.resume());
        return ok;
      },
    },
  });
  // An origin that closes before the whole body came leaves a short body: never ended as complete.
  upstream.on('close', () => {
    if (remaining > 0 || head !== undefined) res.destroy();
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
  const range = req.headers.range ? `range: ${req.headers.range}\r\n` : '';
  upstream.write(`GET ${req.url} HTTP/1.1\r\nhost: ${origin.host}\r\n${range}connection: close\r\n\r\n`);
}

const agent = new Agent({ connections: 1024, keepAliveTimeout: 10_000 });

/** undici's `dispatch` with a handler that writes each chunk to the client and pauses on backpressure. */
function undiciDispatch(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = req.headers.range ? { range: req.headers.range } : {};
  let abort: ((reason: Error) => void) | undefined;
  let gone = false;
  // Placed before the dispatch: a client that leaves before undici writes the request is seen too.
  res.on('close', () => {
    gone = true;
    abort?.(new Error('client gone'));
  });
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(controller) {
      if (gone) controller.abort(new Error('client gone'));
      else abort = (reason) => controller.abort(reason);
    },
    onResponseStart(_controller, status, upstreamHeaders) {
      res.writeHead(status, passedHeaders(upstreamHeaders));
    },
    onResponseData(controller, chunk) {
      if (!res.write(chunk)) {
        controller.pause();
        res.once('drain', () => controller.resume());
      }
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError() {
      res.destroy();
    },
  };
  agent.dispatch({ origin: origin.origin, path: req.url!, method: 'GET', headers }, handler);
}

const serve = mode === 'reused' ? reusedBuffers : mode === 'dispatch' ? undiciDispatch : undefined;
if (serve === undefined) throw new TypeError(`${USAGE}: the mode is reused or dispatch, not ${JSON.stringify(mode)}`);
const server = createServer(serve);
listenAndAnnounce(server);
process.once('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
