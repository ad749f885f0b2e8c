#!/usr/bin/env node
// The hello-world revision's container, as a local process: answers "Hello ${TARGET}!" on any path.
// Usage: TARGET=World PORT=8090 node examples/hello/backend.mjs
import { createServer } from 'node:http';

const target = process.env.TARGET ?? 'World';
const port = Number(process.env.PORT ?? 8090);

const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`Hello ${target}!\n`);
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`hello-world backend listening on http://127.0.0.1:${address.port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
