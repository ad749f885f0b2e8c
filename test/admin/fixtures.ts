import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tlsSecretManifest, type TestCertificate } from '../e2e/harness/certs.js';

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
export function secureManifests(host: string, certificate: TestCertificate): string {
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
${tlsSecretManifest('default', 'secure-cert', certificate)}`;
}
