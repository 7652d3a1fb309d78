import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake resolver does with one request. */
export type Reply =
  | { kind: 'json'; body: unknown; status?: number }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'raw'; body: string; contentType?: string }
  | { kind: 'oversized'; bytes: number; declareLength: boolean }
  | { kind: 'slow-body' }
  | { kind: 'never' };

export interface FakeResolver {
  /** `http://127.0.0.1:<port>` (append a prefix to test path prefixes). */
  readonly origin: string;
  /** Requests received so far (each with its path and query). */
  readonly requests: URL[];
  readonly hits: number;
  /** Replaces how requests are answered; `hit` counts from 1. */
  reply(answer: (request: URL, hit: number) => Reply): void;
  /** Holds every answer until the returned function is called. */
  hold(): () => void;
  /** Resolves once `count` requests have arrived. */
  hitsReached(count: number): Promise<void>;
  close(): Promise<void>;
}

/** The default answer: a URL that names the episode and the hit, so every call gives a new URL. */
export function defaultReply(request: URL, hit: number): Reply {
  const q = request.searchParams;
  return {
    kind: 'json',
    body: {
      url: `https://cdn.example/${q.get('slug')}/s${q.get('s')}e${q.get('e')}/v${hit}.m3u8`,
      headers: { Referer: 'https://voe.example/' },
      provider: q.get('provider') ?? 'VOE',
    },
  };
}

/** A resolver on 127.0.0.1, port 0, that counts its hits and answers as told. */
export async function startFakeResolver(): Promise<FakeResolver> {
  const requests: URL[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let answer: (request: URL, hit: number) => Reply = defaultReply;
  let gate: Promise<void> | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-resolver');
    requests.push(url);
    const hit = requests.length;
    for (const waiter of waiters.filter((w) => hit >= w.count)) waiter.resolve();
    if (gate !== undefined) await gate;
    const reply = answer(url, hit);
    switch (reply.kind) {
      case 'json':
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
        return;
      case 'status':
        res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body ?? '');
        return;
      case 'raw':
        res.writeHead(200, { 'content-type': reply.contentType ?? 'application/json' }).end(reply.body);
        return;
      case 'oversized': {
        const body = `{"url":"https://cdn.example/x","pad":"${'x'.repeat(reply.bytes)}"}`;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (reply.declareLength) headers['content-length'] = String(Buffer.byteLength(body));
        res.writeHead(200, headers);
        // Several writes, so that the limit must be enforced while streaming when no length is declared.
        for (let at = 0; at < body.length; at += 8192) res.write(body.slice(at, at + 8192));
        res.end();
        return;
      }
      case 'slow-body':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"url":');
        return;
      case 'never':
        return;
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get hits() {
      return requests.length;
    },
    reply(next) {
      answer = next;
    },
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    hitsReached(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
