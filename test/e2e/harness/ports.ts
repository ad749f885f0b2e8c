import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/*
 * Ports for the gateways' listeners, which Envoy binds later than we pick them. A port the OS picked for
 * `listen(0)` and we released can be picked again by anything that listens on port 0 meanwhile (another test
 * file's backend, gRPC server or Envoy admin), which then answers our requests. So ports come from below the
 * kernel's ephemeral range, which `listen(0)` never uses, in a block of their own per test worker, and are
 * checked free before use.
 */

const BLOCK = 2_000;
// A random start: test files and concurrent runs in the same worker block rarely pick the same port.
let next = Math.floor(Math.random() * BLOCK);

/** The first port of the kernel's ephemeral range (Linux: 32768 unless configured). */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low && low > 10_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now and that no `listen(0)` elsewhere will be given. */
export async function freePort(): Promise<number> {
  const workers = Math.max(1, Math.floor((ephemeralStart() - 10_000) / BLOCK));
  const worker = (Number(process.env.VITEST_POOL_ID ?? process.pid) || 0) % workers;
  const base = 10_000 + worker * BLOCK;
  for (let tries = 0; tries < BLOCK; tries++) {
    const port = base + (next++ % BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(`freePort: no free port in 127.0.0.1:${base}-${base + BLOCK - 1}; stop what holds them (ss -ltnp) and run again`);
}
