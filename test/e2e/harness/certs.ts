import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/**
 * A fresh self-signed certificate for `commonName` (also its DNS subjectAltName), made by the openssl
 * binary; each call makes a new key and serial, so two calls give two distinct certificates.
 */
export function selfSignedCertificate(commonName: string): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  try {
    const keyFile = join(dir, 'tls.key');
    const certFile = join(dir, 'tls.crt');
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '2',
        '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`selfSignedCertificate ${commonName}: openssl req failed (is openssl on PATH?): ${stderr || String(error)}`);
    }
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A kubernetes.io/tls Secret manifest holding the certificate (base64 `data`, as kubectl writes it). */
export function tlsSecretManifest(namespace: string, name: string, certificate: TestCertificate): string {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [
    'apiVersion: v1',
    'kind: Secret',
    `metadata: {name: ${name}, namespace: ${namespace}}`,
    'type: kubernetes.io/tls',
    'data:',
    `  tls.crt: ${b64(certificate.cert)}`,
    `  tls.key: ${b64(certificate.key)}`,
    '',
  ].join('\n');
}
