import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A kubernetes.io/tls Secret's data: PEM certificate and key, base64-encoded as in the API. */
export interface TlsCert {
  crt: string;
  key: string;
}

/** `count` self-signed EC certificates for *.bench.example.com, made once per run with openssl. */
export function generateSelfSignedCerts(count: number, domain = 'bench.example.com'): TlsCert[] {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-certs-'));
  try {
    return Array.from({ length: count }, (_, i) => {
      const key = join(dir, `${i}.key`);
      const crt = join(dir, `${i}.crt`);
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
        '-subj', `/CN=bench-${i}.${domain}`, '-addext', `subjectAltName=DNS:*.${domain},DNS:${domain}`,
        '-keyout', key, '-out', crt,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      return { crt: readFileSync(crt).toString('base64'), key: readFileSync(key).toString('base64') };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
