import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { KIngress } from '../../src/model/ingress.js';
import type { EndpointSlice, Service } from '../../src/model/kube.js';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { Reconciler } from '../../src/serve/reconciler.js';
import type { StoreUpdate } from '../../src/store/changes.js';
import { Store } from '../../src/store/store.js';
import { DEFAULT_TRANSLATE_CONFIG } from '../../src/translate/envoy/index.js';
import { XdsCache } from '../../src/xds/cache.js';
import { PUSH_ORDER, TypeUrl } from '../../src/xds/resource-types.js';
import { GATEWAY_ROLES } from '../../src/xds/roles.js';

const ingress = (name: string, host: string, services: string[], extra: Partial<KIngress['spec']> = {}): KIngress => ({
  apiVersion: 'networking.internal.knative.dev/v1alpha1',
  kind: 'Ingress',
  metadata: { name, namespace: 'default', creationTimestamp: `2026-01-01T00:00:0${name.length % 10}Z` },
  spec: {
    rules: [{ hosts: [host], visibility: host.endsWith('.local') ? 'ClusterLocal' : 'ExternalIP', http: { paths: [{ splits: services.map((serviceName) => ({ serviceNamespace: 'default', serviceName, servicePort: 80, percent: 100 / services.length })) }] } }],
    ...extra,
  },
});
const service = (name: string, portName = 'http'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: portName, port: 80, targetPort: 8080 }] } });
const slice = (serviceName: string, ready: boolean, address = '127.0.0.1'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${serviceName}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': serviceName } },
  addressType: 'IPv4', endpoints: [{ addresses: [address], conditions: { ready } }], ports: [{ name: 'http', port: 8080 }],
});
const put = (object: KIngress | Service | EndpointSlice): StoreUpdate =>
  ({ kind: object.kind === 'Ingress' ? 'KIngress' : object.kind, object }) as StoreUpdate;

/** Every resource of every role and type, as name → hash. */
function snapshot(cache: XdsCache): Record<string, string> {
  const out: Record<string, string> = {};
  for (const role of GATEWAY_ROLES) for (const typeUrl of PUSH_ORDER) for (const r of cache.list([role], typeUrl)) out[`${role} ${typeUrl} ${r.name}`] = Buffer.from(r.bytes).toString('base64');
  return out;
}

function fromScratch(store: Store, translateConfig = DEFAULT_TRANSLATE_CONFIG): Record<string, string> {
  const cache = new XdsCache();
  new Reconciler({ store, cache, translateConfig, logger: silentLogger }).reconcile();
  return snapshot(cache);
}

describe('Reconciler', () => {
  it('after any sequence of changes, serves what a from-scratch translation serves, re-translating only what changed', () => {
    const store = new Store();
    const cache = new XdsCache();
    const reconciler = new Reconciler({ store, cache, translateConfig: DEFAULT_TRANSLATE_CONFIG, logger: silentLogger });
    let pending: Parameters<Parameters<Store['onChange']>[0]>[0] = [];
    store.onChange((changes) => (pending = [...pending, ...changes]));
    // Feed the reconciler the way start() does, without its timer, so each step is one pass.
    const step = (updates: StoreUpdate[]) => {
      store.apply(updates);
      (reconciler as unknown as { pending: unknown[] }).pending.push(...pending);
      pending = [];
      return reconciler.reconcile();
    };

    step([put(service('a')), put(service('b')), put(slice('a', true)), put(slice('b', true)), put(ingress('one', 'one.example.com', ['a'])), put(ingress('two', 'two.example.com', ['a', 'b'])), put(ingress('three', 'three.svc.cluster.local', ['b']))]);
    expect(snapshot(cache)).toEqual(fromScratch(store));

    const afterService = step([put(service('b', 'h2c'))]);
    const retranslated = [...afterService.ingresses.values()].filter((s) => s.changedInPass === afterService.pass).map((s) => s.ingress.metadata.name).sort();
    expect(retranslated).toEqual(['three', 'two']);
    expect(snapshot(cache)).toEqual(fromScratch(store));

    const afterSlice = step([put(slice('a', false))]);
    expect([...afterSlice.ingresses.values()].filter((s) => s.changedInPass === afterSlice.pass)).toEqual([]);
    expect(snapshot(cache)).toEqual(fromScratch(store));

    step([put(ingress('two', 'one.example.com', ['b']))]);
    expect(reconciler.current().ingresses.get('default/two')?.conflict?.winner).toBe('default/one');
    expect(snapshot(cache)).toEqual(fromScratch(store));

    step([{ kind: 'KIngress', key: 'default/one', delete: true }, put(slice('a', true, '127.0.0.2'))]);
    expect(reconciler.current().ingresses.get('default/two')?.conflict).toBeUndefined();
    expect(snapshot(cache)).toEqual(fromScratch(store));

    step([{ kind: 'KIngress', key: 'default/two', delete: true }, { kind: 'KIngress', key: 'default/three', delete: true }]);
    expect(snapshot(cache)).toEqual(fromScratch(store));
    expect(Object.keys(snapshot(cache)).filter((k) => k.includes('Cluster '))).toEqual([]);
  });

  it('a first pass in batches ends where one pass ends, and hands over nothing partial or later undone', async () => {
    const store = new Store();
    const tlsSecret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: 'default' }, data: { 'tls.crt': Buffer.from(`crt ${name}`).toString('base64'), 'tls.key': Buffer.from(`key ${name}`).toString('base64') } });
    const updates: StoreUpdate[] = [put(service('a')), put(slice('a', true)), put(service('b')), put(slice('b', false))];
    for (let i = 0; i < 7; i++) {
      const host = `app${i}.example.com`;
      const tls = i % 3 === 0 ? { tls: [{ hosts: [host], secretNamespace: 'default', secretName: `cert${i}` }] } : {};
      updates.push(put(ingress(`app${i}`, host, i % 2 ? ['a'] : ['a', 'b'], tls)));
      if (i % 3 === 0) updates.push({ kind: 'Secret', object: tlsSecret(`cert${i}`) } as StoreUpdate);
    }
    updates.push(put(ingress('inside', 'inside.svc.cluster.local', ['b'])));
    // A younger KIngress first in the store that loses app5's host to it: its scope must never be handed over.
    const usurper = ingress('a-usurper', 'app5.example.com', ['b']);
    usurper.metadata.creationTimestamp = '2027-01-01T00:00:00Z';
    updates.unshift(put(usurper));
    store.apply(updates);

    const cache = new XdsCache({ complete: false });
    const listenerUpdates: string[] = [];
    const app5Scopes: string[] = [];
    cache.onChange((role, types) => {
      const scope = cache.get([role], TypeUrl.ScopedRoute, `${role}/app5.example.com`);
      if (types.includes(TypeUrl.ScopedRoute) && scope) app5Scopes.push(ScopedRouteConfiguration.decode(scope.bytes).routeConfigurationName);
      if (types.includes(TypeUrl.Listener)) listenerUpdates.push(`${role} ${cache.list([role], TypeUrl.Listener).map((l) => l.name).join(',')}`);
    });
    const reconciler = new Reconciler({ store, cache, translateConfig: DEFAULT_TRANSLATE_CONFIG, logger: silentLogger });
    await reconciler.startInBatches(2);
    reconciler.stop();
    expect(snapshot(cache)).toEqual(fromScratch(store));
    expect(reconciler.current().ingresses.size).toBe(9);
    expect(new Set(app5Scopes)).toEqual(new Set(['both/default/app5']));
    // Plain-HTTP listeners come with the first batch; the https listeners, whose chains gather every KIngress's
    // certificates, come once, complete, when the pass ends.
    expect(listenerUpdates).toEqual(['external external-http', 'local local-http', 'external external-http,external-https', 'local local-http,local-https']);
  });

  it('a first pass in batches with single route tables hands over each table once, complete', async () => {
    const store = new Store();
    const updates: StoreUpdate[] = [put(service('a')), put(slice('a', true))];
    for (let i = 0; i < 7; i++) updates.push(put(ingress(`app${i}`, `app${i}.example.com`, ['a'])));
    store.apply(updates);
    const config = { ...DEFAULT_TRANSLATE_CONFIG, routeTables: 'single' as const };
    const cache = new XdsCache({ complete: false });
    const tableUpdates: string[] = [];
    cache.onChange((role, types) => {
      if (types.includes(TypeUrl.Route)) tableUpdates.push(`${role} ${cache.list([role], TypeUrl.Route).map((t) => t.name).join(',')}`);
    });
    const reconciler = new Reconciler({ store, cache, translateConfig: config, logger: silentLogger });
    await reconciler.startInBatches(2);
    reconciler.stop();
    expect(snapshot(cache)).toEqual(fromScratch(store, config));
    expect(tableUpdates).toEqual(['external external-http', 'local local-http']);
  });

  it('a first pass gives the event loop turns while it translates a batch, so gateways are answered meanwhile', async () => {
    const store = new Store();
    const updates: StoreUpdate[] = [put(service('a')), put(slice('a', true))];
    for (let i = 0; i < 1500; i++) updates.push(put(ingress(`app${i}`, `app${i}.example.com`, ['a'])));
    store.apply(updates);
    const cache = new XdsCache({ complete: false });
    const reconciler = new Reconciler({ store, cache, translateConfig: DEFAULT_TRANSLATE_CONFIG, logger: silentLogger });
    let turns = 0;
    let passing = true;
    const tick = (): void => {
      turns += 1;
      if (passing) setImmediate(tick);
    };
    setImmediate(tick);
    const started = performance.now();
    // One batch: no turn between batches, only those taken while translating.
    await reconciler.startInBatches(10_000);
    const took = performance.now() - started;
    passing = false;
    reconciler.stop();
    expect(snapshot(cache)).toEqual(fromScratch(store));
    // A turn at least every ~10 ms of translation (and a batch of 1500 takes well over 10 ms).
    expect(took).toBeGreaterThan(20);
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});
