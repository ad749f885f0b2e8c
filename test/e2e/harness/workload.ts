import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectHttp2, constants as http2 } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * A backend for stream-shaped traffic (HTTP/1.1, WebSocket echo on any path), answering by path:
 * - `/stream?chunks=N&intervalMs=M`: `chunk <i>` lines, one every M ms, then the end of the response;
 * - `/delay?ms=N`: its JSON answer after N ms;
 * - `/bytes?size=N`: N bytes of PATTERN (with content-length);
 * - `POST /digest`: `{bytes, sha256}` of the request body;
 * - anything else: `{backend, path, host}`.
 */
export interface WorkloadBackend {
  readonly name: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The bytes `/bytes` answers: a repeated pattern, so that a client can check every byte without keeping a copy. */
export const PATTERN = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz\n');

export function patternBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let offset = 0; offset < size; offset += PATTERN.length) PATTERN.copy(bytes, offset, 0, Math.min(PATTERN.length, size - offset));
  return bytes;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function startWorkloadBackend(name: string): Promise<WorkloadBackend> {
  const server = createServer((req, res) => answer(name, req, res));
  const websockets = new WebSocketServer({ server });
  websockets.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `${name}: ${data.toString()}`)));
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      websockets.close();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

function answer(name: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://backend');
  const number = (key: string): number => Number(url.searchParams.get(key) ?? 0);
  if (url.pathname === '/stream') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`chunk ${sent}\n`);
      sent += 1;
      if (sent === number('chunks')) {
        clearInterval(timer);
        res.end();
      }
    }, number('intervalMs'));
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (url.pathname === '/bytes') {
    const body = patternBytes(number('size'));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
    return;
  }
  if (url.pathname === '/digest') {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => json(res, { backend: name, bytes, sha256: hash.digest('hex') }));
    return;
  }
  const reply = () => json(res, { backend: name, path: url.pathname, host: req.headers.host ?? '' });
  if (url.pathname === '/delay') setTimeout(reply, number('ms'));
  else reply();
}

function json(res: ServerResponse, value: object): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** What a client got: the status, the whole body, and whether the response ended in order (not cut). */
export interface StreamedResult {
  status: number;
  body: Buffer;
  complete: boolean;
  /** Milliseconds from sending the request to the first byte of the response head. */
  firstByteMs: number;
}

/** One HTTP/1.1 request to 127.0.0.1:port with the given Host, reading the whole response and telling an orderly end from a cut one. */
export function http1Exchange(port: number, host: string, path: string, options: { method?: string; body?: Buffer; timeoutMs?: number } = {}): Promise<StreamedResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host }, agent: false }, (res) => {
      const firstByteMs = Date.now() - started;
      const chunks: Buffer[] = [];
      const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete, firstByteMs });
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(res.complete));
      res.on('aborted', () => done(false));
      res.on('error', () => done(false));
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`request to ${host}${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The same over HTTP/2 without TLS (prior knowledge), with the given :authority. */
export function http2Exchange(port: number, authority: string, path: string, options: { method?: string; body?: Buffer; timeoutMs?: number } = {}): Promise<StreamedResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const session = connectHttp2(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ [http2.HTTP2_HEADER_METHOD]: options.method ?? 'GET', [http2.HTTP2_HEADER_PATH]: path, [http2.HTTP2_HEADER_AUTHORITY]: authority });
    stream.setTimeout(options.timeoutMs ?? 30_000, () => stream.close(http2.NGHTTP2_CANCEL));
    let status = 0;
    let firstByteMs = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => {
      status = Number(headers[http2.HTTP2_HEADER_STATUS]);
      firstByteMs = Date.now() - started;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('close', () => {
      session.close();
      resolve({ status, body: Buffer.concat(chunks), complete: stream.rstCode === http2.NGHTTP2_NO_ERROR, firstByteMs });
    });
    stream.on('error', () => undefined);
    stream.end(options.body);
  });
}

/** Sends each message over a WebSocket and collects the echoes; rejects with the status of a refused upgrade. */
export function websocketExchange(port: number, host: string, messages: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers: { host } });
    const received: string[] = [];
    socket.on('open', () => socket.send(messages[0]!));
    socket.on('message', (data) => {
      received.push(String(data));
      if (received.length < messages.length) socket.send(messages[received.length]!);
      else socket.close();
    });
    socket.on('close', () => resolve(received));
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(new Error(`WebSocket upgrade answered ${res.statusCode}: ${body}`)));
    });
    socket.on('error', reject);
  });
}
