import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { silentLogger } from '../../src/log.js';
import { FerryMetrics } from '../../src/metrics.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import type { IngressStatus } from '../../src/model/ingress.js';
import { Ferry } from '../../src/serve/ferry.js';
import { DEFAULT_TRANSLATE_CONFIG } from '../../src/translate/envoy/index.js';
import { startKubeCluster, tempSocketPath, waitFor, type KubeCluster } from './harness/index.js';

/*
 * deploy/kubernetes/ferry.yaml against a real API server: it passes a server-side dry run, and the RBAC it grants is
 * enough for Ferry (a Ferry with exactly that ServiceAccount's token lists, watches, leads and writes status), and no
 * more than that (the same token cannot change a KIngress's spec or read a ConfigMap elsewhere).
 */

const MANIFEST = resolve(import.meta.dirname, '../../deploy/kubernetes/ferry.yaml');
let cluster: KubeCluster;

beforeAll(async () => {
  cluster = await startKubeCluster();
  // Knative Serving's namespace exists before Ferry is installed (ferry.yaml binds a Role in it).
  await cluster.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: knative-serving}\n');
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('deploy/kubernetes/ferry.yaml', () => {
  it('passes kubectl apply --dry-run=server, then installs', async () => {
    // A dry run creates nothing, so the objects inside ferry-system need the namespace to exist already.
    await cluster.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: ferry-system}\n');
    const dryRun = await cluster.kubectl(['apply', '--dry-run=server', '-f', MANIFEST]);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    const kinds = parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((d) => (d.toJSON() as { kind?: string } | null)?.kind).filter(Boolean);
    expect(dryRun.stdout.trim().split('\n')).toHaveLength(kinds.length);
    const applied = await cluster.kubectl(['apply', '-f', MANIFEST]);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('grants Ferry exactly what it needs: a Ferry with the ServiceAccount\'s token serves, leads and writes status', async () => {
    await cluster.apply(`apiVersion: v1
kind: Service
metadata: {name: hello, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: hello
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  tls: [{hosts: [hello.default.example.com], secretName: hello-cert, secretNamespace: default}]
  rules:
  - hosts: [hello.default.example.com]
    visibility: ExternalIP
    http: {paths: [{splits: [{serviceName: hello, serviceNamespace: default, servicePort: 80, percent: 100}]}]}
`);
    const kubeconfig = cluster.kubeconfigFor(await cluster.tokenFor('ferry-system', 'ferry'));
    const ferry = new Ferry({
      source: { kind: 'kube', kubeconfig, systemNamespace: 'ferry-system', status: { identity: 'ferry-rbac', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 400 } },
      xdsAddress: `unix:${tempSocketPath()}`, adminAddress: { host: '127.0.0.1', port: 0 }, translateConfig: DEFAULT_TRANSLATE_CONFIG, envoy: 'none',
      logger: silentLogger, metrics: new FerryMetrics({ processMetrics: false }),
    });
    try {
      // Every informer lists and watches with the token (a 403 would fail start()).
      await ferry.start();
      expect(ferry.store.get('KIngress', 'default/hello')).toBeDefined();
      // No gateway is connected: the status says so, written through the status subresource by the Lease holder.
      const admin = KubeClient.load(cluster.kubeconfig);
      const status = await waitFor(async () => (await admin.get<{ status?: IngressStatus }>('/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/hello')).status, 15_000, 'status written');
      expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NoGateway' });
      const lease = await admin.get<{ spec: { holderIdentity: string } }>('/apis/coordination.k8s.io/v1/namespaces/ferry-system/leases/ferry-status-writer');
      expect(lease.spec.holderIdentity).toBe('ferry-rbac');

      // And no more: the same token cannot change a KIngress's spec, nor read ConfigMaps outside knative-serving.
      const asFerry = KubeClient.load(kubeconfig);
      await expect(asFerry.mergePatch('/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/hello', { spec: { httpOption: 'Redirected' } })).rejects.toThrow(/403/);
      await expect(asFerry.get('/api/v1/namespaces/default/configmaps')).rejects.toThrow(/403/);
    } finally {
      await ferry.stop();
    }
  });
});
