import { selfSignedCertificate } from '../e2e/harness/certs.js';

const certificate = selfSignedCertificate('hostile.example.com');

/** A valid TLS Secret (made once per test file), named by the generated KIngresses' spec.tls. */
export const TLS_SECRET = {
  apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
  metadata: { name: 'cert', namespace: 'default' },
  stringData: { 'tls.crt': certificate.cert, 'tls.key': certificate.key },
};
