import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { parseGatewayOptions } from '../../src/model/gateway-options.js';
import type { KIngress } from '../../src/model/ingress.js';
import type { EndpointSlice, Service } from '../../src/model/kube.js';
import { Reconciler } from '../../src/serve/reconciler.js';
import type { StoreUpdate } from '../../src/store/changes.js';
import { Store } from '../../src/store/store.js';
import { DISABLE_EXT_AUTHZ_ANNOTATION } from '../../src/translate/envoy/ext-authz-routes.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../../src/translate/envoy/index.js';
import { resourceToJson } from '../../src/translate/envoy/to-json.js';
import { XdsCache } from '../../src/xds/cache.js';
import { PUSH_ORDER, TypeUrl } from '../../src/xds/resource-types.js';
import { GATEWAY_ROLES } from '../../src/xds/roles.js';

const ingress = (name: string, annotations: Record<string, string> = {}): KIngress => ({
  apiVersion: 'networking.internal.knative.dev/v1alpha1',
  kind: 'Ingress',
  metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', annotations },
  spec: { rules: [{ hosts: [`${name}.example.com`], visibility: 'ExternalIP', http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'app', servicePort: 80, percent: 100 }] }] } }] },
});
const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
const slice: EndpointSlice = {
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'app-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'app' } },
  addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080 }],
};
const put = (object: KIngress | Service | EndpointSlice): StoreUpdate => ({ kind: object.kind === 'Ingress' ? 'KIngress' : object.kind, object }) as StoreUpdate;

/** Every resource of every role and type, as `role type name` → bytes. */
function snapshot(cache: XdsCache): Map<string, string> {
  const out = new Map<string, string>();
  for (const role of GATEWAY_ROLES) {
    for (const typeUrl of PUSH_ORDER) for (const r of cache.list([role], typeUrl)) out.set(`${role} ${typeUrl.split('.').at(-1)} ${r.name}`, Buffer.from(r.bytes).toString('base64'));
  }
  return out;
}

function fromScratch(store: Store, translateConfig: TranslateConfig): Map<string, string> {
  const cache = new XdsCache();
  new Reconciler({ store, cache, translateConfig, logger: silentLogger }).reconcile();
  return snapshot(cache);
}

/** What changed between two snapshots: added, changed or removed names. */
function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key)).sort();
}

describe('external authorization and PROXY protocol at run time', () => {
  const store = new Store();
  store.apply([put(service), put(slice), put(ingress('checked')), put(ingress('open', { [DISABLE_EXT_AUTHZ_ANNOTATION]: 'true' }))]);
  const cache = new XdsCache();
  const reconciler = new Reconciler({ store, cache, translateConfig: { ...DEFAULT_TRANSLATE_CONFIG, routeTables: 'scoped' }, logger: silentLogger });
  reconciler.reconcile();

  /** Sets the options as config-ferry would, runs one pass: what it re-sent, and whether it translated KIngresses again. */
  const apply = (data: Record<string, string>) => {
    const before = snapshot(cache);
    const { value, problems } = parseGatewayOptions(data);
    expect(problems).toEqual([]);
    reconciler.setGatewayOptions(value);
    const state = reconciler.reconcile();
    const after = snapshot(cache);
    expect(after, 'the same as a from-scratch translation with these options').toEqual(fromScratch(store, { ...DEFAULT_TRANSLATE_CONFIG, routeTables: 'scoped', gateway: value }));
    return { sent: changed(before, after), translated: state.changed.length };
  };
  const grpc = { 'ext-authz-host': 'authz.auth.svc:9000' };

  it('turning it on sends the cluster, the listeners and the route tables of KIngresses that are checked; off takes them back', () => {
    const on = apply(grpc);
    expect(on.translated).toBe(2);
    // Both roles: the local gateway checks cluster-local requests too (and serves the same tables). The opted-out
    // KIngress's table changes too: its virtual host turns the filter off.
    expect(on.sent).toEqual(['external', 'local'].flatMap((role) => [
      `${role} Cluster ferry-ext-authz`, `${role} Listener ${role}-http`, `${role} RouteConfiguration both/default/checked`, `${role} RouteConfiguration both/default/open`,
    ]));
    const off = apply({});
    expect(off.sent).toEqual(on.sent);
  });

  it('a timeout or failure mode changes the listeners only; another address of a gRPC service the cluster only', () => {
    apply(grpc);
    expect(apply({ ...grpc, 'ext-authz-timeout': '300ms', 'ext-authz-failure-mode-allow': 'true' })).toEqual({ sent: ['external Listener external-http', 'local Listener local-http'], translated: 0 });
    expect(apply({ 'ext-authz-host': '10.0.0.9:9001', 'ext-authz-timeout': '300ms', 'ext-authz-failure-mode-allow': 'true' })).toEqual({ sent: ['external Cluster ferry-ext-authz', 'local Cluster ferry-ext-authz'], translated: 0 });
  });

  it('the probe copy of a checked path skips the check only for what Knative\'s prober sends', () => {
    apply(grpc);
    const table = cache.list(['external'], TypeUrl.Route).find((r) => r.name === 'both/default/checked')!;
    const routes = (resourceToJson(table) as { virtualHosts: Array<{ routes: Array<{ name: string; match: unknown; typedPerFilterConfig?: unknown }> }> }).virtualHosts[0]!.routes;
    expect(routes.map((route) => [route.name, route.match, route.typedPerFilterConfig])).toEqual([
      ['default/checked:spec.rules[0].http.paths[0]:probe', { prefix: '/', headers: [{ name: 'K-Network-Hash', stringMatch: { exact: 'override' } }, { name: 'K-Network-Probe', stringMatch: { exact: 'probe' } }] },
        { 'envoy.filters.http.ext_authz': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute', disabled: true } }],
      ['default/checked:spec.rules[0].http.paths[0]', { prefix: '/' }, undefined],
    ]);
  });

  it('proxy-protocol changes the external listener only: connections to the local gateway are not drained', () => {
    apply({});
    expect(apply({ 'proxy-protocol': 'true' })).toEqual({ sent: ['external Listener external-http'], translated: 0 });
    expect(apply({})).toEqual({ sent: ['external Listener external-http'], translated: 0 });
  });
});
