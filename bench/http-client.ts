import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { BackendAnswer } from './backends.js';

export interface GatewayResponse {
  status: number;
  answer: BackendAnswer | undefined;
}

export interface GatewayTarget {
  port: number;
  host: string;
  /** Send over TLS with the host as SNI (certificates are self-signed: not verified). */
  tls?: boolean;
  path?: string;
  headers?: Record<string, string>;
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false });

/** One request through the gateway Envoy on 127.0.0.1; status 0 when the connection failed or timed out. */
export function requestThroughGateway(target: GatewayTarget, timeoutMs = 2_000): Promise<GatewayResponse> {
  return new Promise((resolve) => {
    const options = {
      host: '127.0.0.1',
      port: target.port,
      path: target.path ?? '/',
      headers: { host: target.host, ...target.headers },
      timeout: timeoutMs,
    };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, answer: parseAnswer(res.statusCode, Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', () => resolve({ status: 0, answer: undefined }));
    };
    const req = target.tls
      ? httpsRequest({ ...options, agent: httpsAgent, servername: target.host }, onResponse)
      : httpRequest({ ...options, agent: httpAgent }, onResponse);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, answer: undefined }));
    req.end();
  });
}

/** Closes pooled connections (between sizes, and before exit). */
export function closeGatewayConnections(): void {
  httpAgent.destroy();
  httpsAgent.destroy();
}

function parseAnswer(status: number | undefined, body: string): BackendAnswer | undefined {
  if (status !== 200) return undefined;
  try {
    return JSON.parse(body) as BackendAnswer;
  } catch {
    return undefined;
  }
}
