import { createServer } from 'node:net';

/** A port the OS says is free on 127.0.0.1 now (bound and released; good enough for child processes). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('freePort: no address'))));
    });
  });
}
