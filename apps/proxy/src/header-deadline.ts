import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long a client may take to send a request head, counted in time the proxy's event loop ran.
 *
 * Node's own `headersTimeout` is wall-clock time checked by a timer, and after a stall timers run
 * before pending I/O is read: a proxy that was stopped or starved for longer than the timeout
 * answered 408 (or reset) connections whose request had arrived in time but was not read yet.
 * Here time advances by one tick per timer run, however late it runs, so a stall delays requests
 * but never fails them, while a client that really trickles its head still runs out of ticks.
 */
export interface HeaderDeadlineOptions {
  /** Time to the end of a request head, from the connection or from the end of the last answer. */
  timeoutMs: number;
  /** On a kept-alive connection the next request may start this late (the server's keep-alive timeout). */
  keepAliveMs: number;
  /** How often loop time advances (default 1 s). */
  tickMs?: number;
  /** Answers and closes a connection whose head is late (the proxy's JSON 408, see client-errors.ts). */
  expire: (socket: Socket) => void;
}

/**
 * Watches every connection of `server` for its request heads (see {@link HeaderDeadlineOptions});
 * create the server with `headersTimeout: 0, requestTimeout: 0` so that Node's own check is off.
 * Returns the function that stops the watch.
 */
export function guardHeaderDeadline(server: Server, options: HeaderDeadlineOptions): () => void {
  const tickMs = options.tickMs ?? 1000;
  let loopTime = 0;
  /** Sockets still owing a request head, and the loop time by which they must have sent it. */
  const owing = new Map<Socket, number>();
  // One function each for every connection and response (they read the socket or response they
  // are called on), not a closure per connection and per request; `on`, not `once`: each event
  // comes once per socket or response, and `once` would wrap the listener anew every time.
  function forget(this: Socket): void {
    owing.delete(this);
  }
  // The next request on a kept-alive connection: idle up to the keep-alive timeout, then its head.
  function rearm(this: ServerResponse): void {
    const socket = this.req.socket;
    if (!socket.destroyed) owing.set(socket, loopTime + options.keepAliveMs + options.timeoutMs);
  }
  const onConnection = (socket: Socket) => {
    owing.set(socket, loopTime + options.timeoutMs);
    socket.on('close', forget);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    owing.delete(req.socket);
    res.on('finish', rearm);
  };
  const timer = setInterval(() => {
    loopTime += tickMs;
    for (const [socket, due] of owing) {
      if (due > loopTime) continue;
      owing.delete(socket);
      options.expire(socket);
    }
  }, tickMs).unref();
  server.on('connection', onConnection);
  server.on('request', onRequest);
  server.on('checkExpectation', onRequest);
  return () => {
    clearInterval(timer);
    server.off('connection', onConnection);
    server.off('request', onRequest);
    server.off('checkExpectation', onRequest);
  };
}
