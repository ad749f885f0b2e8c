import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface HttpBackendOptions {
  /** Returned in every answer as `backend`, so a test knows who answered. */
  name: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with this status (default 200). */
  status?: number;
  /** 'h2c': HTTP/2 without TLS (prior knowledge), as Envoy speaks to h2c backends. */
  protocol?: 'http1' | 'h2c';
  /** Echo WebSocket messages (HTTP/1.1 only): each message comes back prefixed with "<name>: ". */
  websocket?: boolean;
  /**
   * How long an idle kept-alive HTTP/1.1 connection stays open (Node's default: 5 s). 0 keeps it until the client
   * closes it, as Go's HTTP server does by default: then the gateway never sends a request on a connection the
   * backend is closing at that instant, which Envoy answers with a 503.
   */
  keepAliveTimeoutMs?: number;
}

export interface HttpBackend {
  readonly name: string;
  readonly port: number;
  /** Requests answered so far (WebSocket upgrades included). */
  readonly requests: number;
  close(): Promise<void>;
}

/** The JSON a test backend answers. */
export interface BackendAnswer {
  backend: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** A real HTTP server on 127.0.0.1 (OS-chosen port) that answers who it is and what it received. */
export async function startHttpBackend(options: HttpBackendOptions): Promise<HttpBackend> {
  let requests = 0;
  const answer = (method: string, path: string, headers: IncomingHttpHeaders): string =>
    JSON.stringify({ backend: options.name, method, path, headers } satisfies BackendAnswer);
  const delay = (fn: () => void): void => {
    if (options.delayMs) setTimeout(fn, options.delayMs);
    else fn();
  };

  let server: Server | Http2Server;
  if (options.protocol === 'h2c') {
    if (options.websocket) throw new Error(`startHttpBackend ${options.name}: websocket needs protocol http1`);
    const h2 = createHttp2Server();
    h2.on('request', (req, res) => {
      requests += 1;
      delay(() => {
        res.writeHead(options.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer(req.method, req.url, req.headers));
      });
    });
    server = h2;
  } else {
    const h1 = createHttpServer((req, res) => {
      requests += 1;
      delay(() => {
        res.writeHead(options.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer(req.method ?? 'GET', req.url ?? '/', req.headers));
      });
    });
    if (options.keepAliveTimeoutMs !== undefined) h1.keepAliveTimeout = options.keepAliveTimeoutMs;
    if (options.websocket) {
      const wss = new WebSocketServer({ server: h1 });
      wss.on('connection', (socket) => {
        requests += 1;
        socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `${options.name}: ${data.toString()}`));
      });
      h1.once('close', () => wss.close());
    }
    server = h1;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const sessions = new Set<{ destroy(): void }>();
  server.on('connection', (socket: { destroy(): void; once(event: 'close', fn: () => void): void }) => {
    sessions.add(socket);
    socket.once('close', () => sessions.delete(socket));
  });
  return {
    name: options.name,
    port,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sessions) socket.destroy();
    }),
  };
}
