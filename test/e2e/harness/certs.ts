import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';

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
  return withOpenssl(`selfSignedCertificate ${commonName}`, (run, file) => {
    run(['req', '-x509', ...NEW_EC_KEY, '-keyout', file('tls.key'), '-out', file('tls.crt'), '-days', '2',
      '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`]);
    return { cert: readFileSync(file('tls.crt'), 'utf8'), key: readFileSync(file('tls.key'), 'utf8') };
  });
}

/** A fresh certificate authority (self-signed, CA:true) to sign certificates with signedCertificate(). */
export function certificateAuthority(commonName: string): TestCertificate {
  return withOpenssl(`certificateAuthority ${commonName}`, (run, file) => {
    run(['req', '-x509', ...NEW_EC_KEY, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2',
      '-subj', `/CN=${commonName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return { cert: readFileSync(file('ca.crt'), 'utf8'), key: readFileSync(file('ca.key'), 'utf8') };
  });
}

/**
 * A certificate for `commonName` (also its DNS subjectAltName) signed by `ca`, usable as server and client
 * certificate; `days` below 0 makes one that has already expired.
 */
export function signedCertificate(ca: TestCertificate, commonName: string, days = 2): TestCertificate {
  return withOpenssl(`signedCertificate ${commonName}`, (run, file) => {
    writeFileSync(file('ca.crt'), ca.cert);
    writeFileSync(file('ca.key'), ca.key);
    writeFileSync(file('ext'), `subjectAltName=DNS:${commonName}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    run(['req', ...NEW_EC_KEY, '-keyout', file('tls.key'), '-out', file('tls.csr'), '-subj', `/CN=${commonName}`]);
    run(['x509', '-req', '-in', file('tls.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-set_serial', String(Date.now() * 1000 + Math.floor(Math.random() * 1000)),
      '-out', file('tls.crt'), '-days', String(days), '-extfile', file('ext')]);
    return { cert: readFileSync(file('tls.crt'), 'utf8'), key: readFileSync(file('tls.key'), 'utf8') };
  });
}

const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Runs openssl commands in a temporary folder (removed afterwards); a failure names the helper and openssl's stderr. */
function withOpenssl<T>(what: string, body: (run: (args: string[]) => void, file: (name: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  try {
    return body((args) => {
      try {
        execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (error) {
        const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
        throw new Error(`${what}: openssl ${args[0]} failed (is openssl on PATH?): ${stderr || String(error)}`);
      }
    }, (name) => join(dir, name));
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

/** The SHA-256 fingerprint of the certificate the gateway on 127.0.0.1:port presents for an SNI. */
export function presentedFingerprint(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`TLS handshake with ${servername} on port ${port} timed out`)));
    socket.on('error', reject);
  });
}

/** The certificate's SHA-256 fingerprint, as presentedFingerprint gives it. */
export function fingerprintOf(certificate: TestCertificate): string {
  return new X509Certificate(certificate.cert).fingerprint256;
}
