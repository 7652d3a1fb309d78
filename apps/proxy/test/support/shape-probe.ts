// Run with `node --allow-natives-syntax --conditions=@strm/source --import tsx` (router.test.ts):
// a server wired as server.ts wires the proxy's (Express behind `expressServerClasses`) answers
// one real request, and prints whether V8 keeps the request's and the response's properties
// fast (not a dictionary) once Express has handled them and a body chunk went out.
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressServerClasses } from '../../src/router';

// A V8 intrinsic, reachable only through code V8 parses itself (the TypeScript loader would not).
const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;

const app = express();
let seen: { request: boolean; response: boolean } | undefined;
app.get('/probe', (req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '4' });
  res.write(Buffer.from('ab'));
  seen = { request: hasFastProperties(req), response: hasFastProperties(res) };
  res.end(Buffer.from('cd'));
});
const server = createServer({ ...expressServerClasses(app) }, app);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
const [response] = (await once(get({ host: '127.0.0.1', port, path: '/probe', agent: false }), 'response')) as [IncomingMessage];
response.resume();
await once(response, 'end');
server.close();
process.stdout.write(`${JSON.stringify(seen)}\n`);
