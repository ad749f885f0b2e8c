import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A fresh self-signed EC certificate and key (PEM) for a host, made by openssl. */
export function makeCertificate(host: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-admin-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '2', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    return { cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') };
  } catch (error) {
    throw new Error(`makeCertificate ${host}: openssl failed (is openssl on PATH?): ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bundled hello example, its revision's endpoints pointed at a test backend's port. */
export function helloManifests(backendPort: number): Record<string, string> {
  const dir = resolve(import.meta.dirname, '../../examples/hello');
  const manifests: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    manifests[file] = readFileSync(join(dir, file), 'utf8').replaceAll('port: 8090', `port: ${backendPort}`);
  }
  return manifests;
}

/** A KIngress with TLS for `host` (served by the hello revision), its Secret, and a second KIngress that loses a host conflict. */
export function secureManifests(host: string, certificate: { cert: string; key: string }): string {
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  const split = `
        - serviceNamespace: default
          serviceName: hello-world
          servicePort: 80
          percent: 100`;
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: secure
  namespace: default
  generation: 3
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  tls:
  - hosts: [${host}]
    secretName: secure-cert
    secretNamespace: default
  rules:
  - hosts: [${host}]
    visibility: ExternalIP
    http:
      paths:
      - splits:${split}
---
apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: latecomer
  namespace: default
  creationTimestamp: "2025-01-01T00:00:00Z"
spec:
  rules:
  - hosts: [${host}]
    visibility: ExternalIP
    http:
      paths:
      - splits:${split}
---
apiVersion: v1
kind: Secret
metadata: {name: secure-cert, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(certificate.cert)}
  tls.key: ${b64(certificate.key)}
`;
}
