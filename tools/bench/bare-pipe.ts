// The reference a proxy is measured against: the least a Node proxy can do. A node:http server
// that forwards the path and the Range header to one origin over a keep-alive undici pool and
// pipes the body back with the headers a media client needs. No auth, no resolver, no logging.
//   node tools/bench/bare-pipe.ts <origin>   → prints {"url": "http://127.0.0.1:<port>"}
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent } from 'undici';
import { listenAndAnnounce, passedHeaders } from './minimal-server';

const origin = process.argv[2]!;
// As many upstream connections per origin as the proxy (its STRM_PROXY_UPSTREAM_CONNECTIONS default,
// 1024), so neither waits where the other would not: the memory section's 1,000 slow clients each
// hold one for as long as they read.
const agent = new Agent({ connections: 1024, keepAliveTimeout: 10_000 });

const server = createServer(async (req, res) => {
  try {
    const range = req.headers.range;
    const upstream = await agent.request({ origin, path: req.url!, method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers: range ? { range } : {} });
    res.writeHead(upstream.statusCode, passedHeaders(upstream.headers));
    await pipeline(upstream.body, res);
  } catch {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  }
});
listenAndAnnounce(server);
process.once('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
