import { request as httpRequest, type Agent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResult {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * One HTTP/1.1 request to 127.0.0.1:port with the given Host header; a fresh connection unless an agent is given. With
 * `tls`, over HTTPS with the host as SNI (the gateway's certificate is not verified: tests make self-signed ones).
 */
export function request(port: number, host: string, path = '/', headers: Record<string, string> = {}, options: { agent?: Agent; method?: string; timeoutMs?: number; tls?: boolean } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { ...headers, host }, agent: options.agent ?? false };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    };
    const req = options.tls ? httpsRequest({ ...common, servername: host, rejectUnauthorized: false }, onResponse) : httpRequest(common, onResponse);
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`request to ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The `backend` field of a test backend's JSON answer, or undefined when the body is something else. */
export function backendOf(result: HttpResult): string | undefined {
  try {
    return (JSON.parse(result.body) as { backend?: string }).backend;
  } catch {
    return undefined;
  }
}

/** One request over the agent's kept-alive connection: the client port says whether it is still the same connection. */
export function localPortOf(port: number, agent: Agent, host = 'a.example.com'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
      const localPort = res.socket.localPort ?? 0;
      res.resume();
      res.on('end', () => resolve(localPort));
    });
    req.on('error', reject);
    req.end();
  });
}
