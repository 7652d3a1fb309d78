// The ceiling of a Node proxy: a TCP relay that parses no HTTP at all. Each client connection
// gets one connection to the origin and the two sockets are piped both ways; bytes are moved, never
// looked at. Whatever a Node HTTP proxy costs beyond this is its own doing.
//   node tools/bench/tcp-relay.ts <origin>   → prints {"url": "http://127.0.0.1:<port>"}
import { connect, createServer } from 'node:net';
import { listenAndAnnounce } from './minimal-server';

const origin = new URL(process.argv[2]!);
const server = createServer((client) => {
  const upstream = connect({ host: origin.hostname, port: Number(origin.port), noDelay: true });
  client.setNoDelay(true);
  const cut = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', cut).on('close', cut);
  upstream.on('error', cut).on('close', cut);
  client.pipe(upstream);
  upstream.pipe(client);
});
listenAndAnnounce(server);
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  // Kept-alive client connections would hold the close open.
  setImmediate(() => process.exit(0));
});
