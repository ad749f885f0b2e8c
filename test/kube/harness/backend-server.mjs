// A test backend run as its own process, so that it can live in a network namespace (the kube tests' "pod"):
//   ip netns exec <pod> node backend-server.mjs --address 10.213.0.2 --port 0 --name NAME [--status 200] [--delay-ms 0] [--h2c]
// Answers every request with JSON {backend, method, path, headers}, as test/e2e/harness/backend.ts does.
// Prints `listening <address>:<port>` once bound and `request <method> <path>` per request, for the harness.
import { createServer } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '0' },
    name: { type: 'string', default: 'backend' },
    status: { type: 'string', default: '200' },
    'delay-ms': { type: 'string', default: '0' },
    h2c: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const delayMs = Number(values['delay-ms']);

function handle(req, res) {
  if (!values.quiet) console.log(`request ${req.method} ${req.url}`);
  const body = JSON.stringify({ backend: values.name, method: req.method, path: req.url, headers: req.headers });
  setTimeout(() => {
    res.writeHead(Number(values.status), { 'content-type': 'application/json' });
    res.end(body);
  }, delayMs);
}

const server = values.h2c ? createH2cServer(handle) : createServer(handle);
server.on('error', (error) => {
  console.error(`backend ${values.name}: ${error.message}`);
  process.exit(1);
});
server.listen(Number(values.port), values.address, () => {
  console.log(`listening ${values.address}:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
