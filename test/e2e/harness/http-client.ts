import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** One HTTP/1.1 request to 127.0.0.1:port with the given Host header; a fresh connection unless an agent is given. */
export function request(port: number, host: string, path = '/', headers: Record<string, string> = {}, options: { agent?: Agent; method?: string; timeoutMs?: number } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { ...headers, host }, agent: options.agent ?? false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
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
