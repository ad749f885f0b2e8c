// A byte relay of the one-machine cluster (test/cluster/network.ts), run on the host or inside a network namespace:
//   --listen HOST:PORT|/unix/path --connect HOST:PORT|/unix/path   pipes every connection to the target
//   --listen /unix/path --http-connect                             an HTTP CONNECT proxy (kube-apiserver's egress selector)
// Prints `relaying <listen>` once listening.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { listen: { type: 'string' }, connect: { type: 'string' }, 'http-connect': { type: 'boolean', default: false } } });

function endpoint(text) {
  if (text.startsWith('/')) return { path: text };
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

function pipe(client, upstream, head) {
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
  if (head?.length) upstream.write(head);
  client.pipe(upstream).pipe(client);
}

function connectProxy(client) {
  // Reads the CONNECT request head, dials its target, answers 200 and then relays bytes both ways.
  let buffered = Buffer.alloc(0);
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buffered.length > 16384) client.destroy();
      return;
    }
    client.off('data', onData);
    const [method, target] = buffered.subarray(0, end).toString('latin1').split('\r\n')[0].split(' ');
    const rest = buffered.subarray(end + 4);
    if (method !== 'CONNECT' || !target) {
      client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
      return;
    }
    const upstream = createConnection(endpoint(target), () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      pipe(client, upstream, rest);
    });
    upstream.once('error', (error) => client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${error.message}`));
  };
  client.on('data', onData);
  client.on('error', () => client.destroy());
}

const listen = endpoint(values.listen);
if (listen.path) rmSync(listen.path, { force: true });
const server = createServer((client) => {
  if (values['http-connect']) connectProxy(client);
  else pipe(client, createConnection(endpoint(values.connect)));
});
server.listen(listen, () => console.log(`relaying ${values.listen}`));
process.on('SIGTERM', () => process.exit(0));
