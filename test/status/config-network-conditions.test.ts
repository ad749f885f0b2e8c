import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { parseNetworkConfig } from '../../src/model/config.js';
import type { KIngress } from '../../src/model/ingress.js';
import type { ConfigMap, Service } from '../../src/model/kube.js';
import { Reconciler } from '../../src/serve/reconciler.js';
import { unhonouredNetworkConditions } from '../../src/status/config-network-conditions.js';
import { Store } from '../../src/store/store.js';
import { DEFAULT_TRANSLATE_CONFIG } from '../../src/translate/envoy/index.js';
import { XdsCache } from '../../src/xds/cache.js';
import { TypeUrl } from '../../src/xds/resource-types.js';

const ingress = (servicePort: number | string, tlsHosts: string[] = []): KIngress => ({
  apiVersion: 'networking.internal.knative.dev/v1alpha1',
  kind: 'Ingress',
  metadata: { name: 'hello', namespace: 'default' },
  spec: {
    ...(tlsHosts.length > 0 ? { tls: [{ hosts: tlsHosts, secretNamespace: 'default', secretName: 'local-cert' }] } : {}),
    rules: [
      { hosts: ['hello.default.example.com'], visibility: 'ExternalIP', http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello-00001', servicePort, percent: 100 }] }] } },
      { hosts: ['hello.default', 'hello.default.svc.cluster.local'], visibility: 'ClusterLocal', http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello-00001', servicePort, percent: 100 }] }] } },
    ],
  },
});

describe('config-network options for the gateways', () => {
  it('parses system-internal-tls (and its deprecated internal-encryption), cluster-local-domain-tls and default-external-scheme, naming the key of a bad value', () => {
    expect(parseNetworkConfig({}).value).toMatchObject({ systemInternalTls: false, clusterLocalDomainTls: false, defaultExternalScheme: 'http' });
    expect(parseNetworkConfig({ 'system-internal-tls': 'enabled', 'cluster-local-domain-tls': 'Enabled', 'default-external-scheme': 'HTTPS' }).value)
      .toMatchObject({ systemInternalTls: true, clusterLocalDomainTls: true, defaultExternalScheme: 'https' });
    expect(parseNetworkConfig({ 'internal-encryption': 'true' }).value.systemInternalTls).toBe(true);
    expect(parseNetworkConfig({ 'internal-encryption': 'true', 'system-internal-tls': 'Disabled' }).value.systemInternalTls).toBe(false);
    expect(parseNetworkConfig({ 'system-internal-tls': 'on', 'cluster-local-domain-tls': 'yes', defaultExternalScheme: 'ftp' }).problems).toEqual([
      { field: 'data.defaultExternalScheme', message: '"ftp" is not one of http, https' },
      { field: 'data.system-internal-tls', message: '"on" is not one of Enabled, Disabled' },
      { field: 'data.cluster-local-domain-tls', message: '"yes" is not one of Enabled, Disabled' },
    ]);
  });

  it('cluster-local-domain-tls: only cluster-local hosts no spec.tls names are listed', () => {
    expect(unhonouredNetworkConditions(ingress(80), { clusterLocalDomainTls: false })).toEqual([]);
    const on = { clusterLocalDomainTls: true };
    expect(unhonouredNetworkConditions(ingress(80), on)[0]?.message).toMatch(/\(hello\.default, hello\.default\.svc\.cluster\.local\)$/);
    expect(unhonouredNetworkConditions(ingress(80, ['hello.default.svc.cluster.local']), on)[0]?.message).toMatch(/\(hello\.default\)$/);
    expect(unhonouredNetworkConditions(ingress(80, ['hello.default', 'hello.default.svc.cluster.local']), on)).toEqual([]);
  });

  it('Ferry says so at start, naming config-network and the key, and again only when config-network changes; system-internal-tls reaches the clusters', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', destination: { write: (text) => lines.push(...text.trimEnd().split('\n')) } });
    const warnings = async (): Promise<string[]> => {
      await new Promise((resolve) => setImmediate(resolve));
      return lines.map((line) => JSON.parse(line) as { level: number; msg: string; configMap?: string })
        .filter((entry) => entry.level === 40 && entry.configMap === 'knative-serving/config-network').map((entry) => entry.msg);
    };
    const store = new Store();
    const cache = new XdsCache();
    const configNetwork = (data: Record<string, string>): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-network', namespace: 'knative-serving' }, data });
    const given = ingress(443);
    given.metadata.annotations = { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' };
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello-00001', namespace: 'default' }, spec: { ports: [{ name: 'https', port: 443, targetPort: 8112 }] } };
    store.apply([{ kind: 'ConfigMap', object: configNetwork({ 'cluster-local-domain-tls': 'Enabled' }) }, { kind: 'KIngress', object: given }, { kind: 'Service', object: service }]);
    const reconciler = new Reconciler({ store, cache, translateConfig: DEFAULT_TRANSLATE_CONFIG, logger });
    reconciler.start();
    expect(reconciler.current().ingresses.get('default/hello')?.networkConditions?.[0]?.type).toBe('ClusterLocalDomainTLS');
    expect(await warnings()).toEqual([expect.stringMatching(/^knative-serving\/config-network data\.cluster-local-domain-tls is Enabled: Ferry serves cluster-local hosts over TLS on the local gateway only with the certificates a KIngress's spec\.tls names/)]);
    reconciler.reconcile();
    expect(await warnings()).toHaveLength(1);
    const tlsSocket = () => cache.list(['external'], TypeUrl.Cluster).some((cluster) => Buffer.from(cluster.bytes).includes('kn-user-default'));
    expect(tlsSocket()).toBe(false);
    store.apply([{ kind: 'ConfigMap', object: configNetwork({ 'cluster-local-domain-tls': 'Enabled', 'system-internal-tls': 'Enabled' }) }]);
    reconciler.reconcile();
    // config-network changed: what is still not honoured is said again; the TLS port's cluster now checks the queue-proxy's name.
    expect(await warnings()).toHaveLength(2);
    expect(tlsSocket()).toBe(true);
    // Knative's CA is not in the store: said once, naming the Secret.
    const missing = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((entry) => entry.level === 40 && entry.msg.includes('routing-serving-certs'));
    expect(missing.map((entry) => entry.msg)).toEqual([expect.stringMatching(/^config-network system-internal-tls: Secret knative-serving\/routing-serving-certs not found; the gateways cannot check the revisions' certificates/)]);
    reconciler.stop();
  });
});
