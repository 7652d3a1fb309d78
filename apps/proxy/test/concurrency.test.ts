import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Agent, request } from 'undici';
import { mediaBytes, startResolver, startServer, startTestProxy, type TestProxy, type TestResolver, type TestServer } from './support/servers';

// Streams hold their upstream connection while they play: many viewers of one CDN host at once
// must all be answered, not queued behind the first ones.
const VIEWERS = 100;
const HEAD = mediaBytes(1000);
const open = new Set<ServerResponse>();
let origin: TestServer;
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  // An origin that sends the first bytes of a long file and then holds every response open.
  origin = await startServer((_req, res) => {
    open.add(res);
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(1024 ** 3) });
    res.write(HEAD);
  });
  resolver = await startResolver([{ slug: 'film', url: () => `${origin.origin}/film.mp4` }]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  for (const res of open) res.destroy();
  await proxy?.close(0);
  await resolver?.close();
  await origin?.close();
});

describe('concurrent streams of one origin', () => {
  test(`${VIEWERS} viewers of one CDN host all get their first bytes while the others keep streaming`, async () => {
    const agent = new Agent({ connections: VIEWERS });
    const url = proxy.entryUrl('film');
    try {
      const firstBytes = await Promise.all(
        Array.from({ length: VIEWERS }, async () => {
          const response = await request(url, { dispatcher: agent });
          const first = await new Promise<Buffer>((resolve) => response.body.once('data', resolve));
          return { status: response.statusCode, first };
        }),
      );
      expect(firstBytes.filter((r) => r.status === 200)).toHaveLength(VIEWERS);
      expect(firstBytes.every((r) => HEAD.subarray(0, r.first.length).equals(r.first))).toBe(true);
      expect(open.size).toBe(VIEWERS);
    } finally {
      await agent.destroy();
    }
  });
});
