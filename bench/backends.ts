import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a bench backend answers: who it is, and the headers Envoy set that the bench checks. */
export interface BackendAnswer {
  backend: string;
  revision: string | undefined;
  change: string | undefined;
}

export interface BenchBackend {
  name: string;
  port: number;
  close(): Promise<void>;
}

export const CHANGE_HEADER = 'x-bench-change';

/** A tiny HTTP server on 127.0.0.1 (OS-chosen port) standing in for revision pods or the activator. */
export async function startBackend(name: string): Promise<BenchBackend> {
  const server: Server = createServer((req, res) => {
    const answer: BackendAnswer = {
      backend: name,
      revision: header(req.headers['knative-serving-revision']),
      change: header(req.headers[CHANGE_HEADER]),
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    name,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
