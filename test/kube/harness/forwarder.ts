import { join } from 'node:path';
import { repositoryRoot } from '../../../src/envoy/bootstrap.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request, type IncomingHttpHeaders } from 'node:http';
import { ManagedProcess, type NetnsPair } from './netns.js';

// From the repository, not from beside this file: the bench runs the compiled copy in dist/, which has no .mjs.
const SCRIPT = join(repositoryRoot(), 'test', 'kube', 'harness', 'forwarder.mjs');

export interface GatewayForwarder {
  /** The unix socket on the host that reaches the gateway's port. */
  readonly socketPath: string;
  /** One HTTP/1.1 request to the gateway through the socket (keep-alive off: each request is independent). */
  get(host: string, path?: string, timeoutMs?: number): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>;
  stop(): Promise<void>;
}

/**
 * A gateway port inside the gw namespace, reached from the host through a unix socket (a forwarder process in the
 * namespace): many requests a second without a curl per request, for load and latency measurements.
 */
export async function startGatewayForwarder(net: NetnsPair, port: number): Promise<GatewayForwarder> {
  const socketPath = join(mkdtempSync(join(tmpdir(), 'ferry-fwd-')), `gw-${port}.sock`);
  let ready: () => void = () => {};
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const proc = new ManagedProcess('ip', ['netns', 'exec', net.gw, process.execPath, SCRIPT, '--socket', socketPath, '--port', String(port)], {
    name: `forwarder ${port}`,
    onLine: (line) => line.startsWith('forwarding ') && ready(),
  });
  const exited = proc.exited.then(() => {
    throw new Error(`gateway forwarder for port ${port} exited: ${proc.logTail(10)}`);
  });
  await Promise.race([listening, exited]);
  return {
    socketPath,
    get: (host, path = '/', timeoutMs = 5_000) => new Promise((resolve, reject) => {
      const req = request({ socketPath, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`request to ${host}${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    }),
    stop: () => proc.stop(2_000),
  };
}
