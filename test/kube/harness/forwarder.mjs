// A unix socket into a network namespace: run inside the gw namespace, it accepts connections on a unix socket
// (filesystem paths cross namespaces) and pipes each to a TCP port on that namespace's loopback, so that the host
// can speak HTTP to the gateway without a process per request:
//   ip netns exec <gw> node forwarder.mjs --socket /tmp/x/gw.sock --port 8080
// Prints `forwarding <socket> -> 127.0.0.1:<port>` once listening.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { socket: { type: 'string' }, port: { type: 'string' }, address: { type: 'string', default: '127.0.0.1' } } });
rmSync(values.socket, { force: true });
const server = createServer((client) => {
  const upstream = createConnection({ host: values.address, port: Number(values.port) });
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(values.socket, () => console.log(`forwarding ${values.socket} -> ${values.address}:${values.port}`));
process.on('SIGTERM', () => process.exit(0));
