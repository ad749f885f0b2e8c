import { request } from 'node:http';
import { parseHostPort } from './args.js';

export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:18001';

/**
 * GETs a path of a running Ferry's admin endpoint and parses the JSON answer. Errors say how to reach Ferry,
 * because the usual cause is that no `ferry serve` runs at that address.
 */
export function getAdminJson<T>(address: string, path: string): Promise<T> {
  const { host, port } = parseHostPort('--admin', address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`Ferry admin ${address}${path} answered ${res.statusCode}: ${body.trim()}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          reject(new Error(`Ferry admin ${address}${path} did not answer JSON; is --admin the address of Ferry's admin endpoint (not Envoy's)?`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 10s')));
    req.on('error', (err) => reject(new Error(`cannot reach Ferry's admin endpoint at ${address} (${err.message}); is \`ferry serve\` running? Pass its --admin-address with --admin HOST:PORT`)));
    req.end();
  });
}
