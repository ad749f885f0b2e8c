// What the image ikubernetes/helloworld-go runs, for the node stand-in (test/cluster/node.ts): Knative's hello-world
// sample. Answers every request with `Hello <TARGET>!` on $PORT (default 8080), TARGET defaulting to World.
import { createServer } from 'node:http';

const target = process.env.TARGET || 'World';
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`Hello ${target}!\n`);
});
server.listen(Number(process.env.PORT || 8080), () => console.log(`helloworld: listening on ${process.env.PORT || 8080}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
