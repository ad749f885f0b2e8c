import { describe, expect, it } from 'vitest';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { AdsTestClient, node } from './ads-client.js';
import { anyName, edsCluster, endpoints, listener, route, staticCluster } from './fixtures.js';
import { metricValue, serverPerTest, type Harness } from './harness.js';

type Delta = AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

function request(typeUrl: string, fields: Partial<DeltaDiscoveryRequest> = {}): DeltaDiscoveryRequest {
  return {
    typeUrl, resourceNamesSubscribe: [], resourceNamesUnsubscribe: [], resourceLocatorsSubscribe: [], resourceLocatorsUnsubscribe: [],
    initialResourceVersions: {}, responseNonce: '', ...fields,
  };
}

function ack(response: DeltaDiscoveryResponse): DeltaDiscoveryRequest {
  return request(response.typeUrl, { responseNonce: response.nonce });
}

/** name → version of the resources in a response; names are checked against the decoded resource too. */
function versions(response: DeltaDiscoveryResponse): Record<string, string> {
  return Object.fromEntries(response.resources.map((r) => {
    expect(anyName(r.resource!)).toBe(r.name);
    return [r.name, r.version];
  }));
}

describe('delta ADS', () => {
  let h: Harness;
  const { connect, restart } = serverPerTest((port) => AdsTestClient.delta(port), (harness) => (h = harness));

  it('sends adds, then only what changed, then removals', async () => {
    const a = staticCluster('a');
    const b = staticCluster('b');
    h.cache.setResources('external', TypeUrl.Cluster, [a, b]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const first = await c.next();
    expect(versions(first)).toEqual({ a: a.hash, b: b.hash });
    expect(first.removedResources).toEqual([]);
    c.send(ack(first));
    await c.expectNoResponse();

    const a1 = staticCluster('a', 1);
    h.cache.setResources('external', TypeUrl.Cluster, [a1, b]);
    const update = await c.next();
    expect(versions(update)).toEqual({ a: a1.hash });
    c.send(ack(update));
    await expect.poll(() => h.server.streams()[0]?.types[0]?.awaitingAck).toBe(false);

    h.cache.setResources('external', TypeUrl.Cluster, [a1]);
    const removal = await c.next();
    expect(removal.resources).toEqual([]);
    expect(removal.removedResources).toEqual(['b']);
    c.send(ack(removal));
    await c.expectNoResponse();
    expect(await metricValue(h.metrics, 'ferry_xds_acks_total', { type: 'clusters' })).toBe(3);
  });

  it('on reconnect sends only resources whose version differs, and removes those that no longer exist', async () => {
    const a = staticCluster('a');
    const b = staticCluster('b');
    h.cache.setResources('external', TypeUrl.Cluster, [a, b]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, {
      node: node('gw-1', 'external'),
      initialResourceVersions: { a: a.hash, b: 'stale-version', gone: 'whatever' },
    }));
    const first = await c.next();
    expect(versions(first)).toEqual({ b: b.hash });
    expect(first.removedResources).toEqual(['gone']);
  });

  it('while the cache is incomplete (Ferry starting), sends additions but removes nothing; removals follow completion', async () => {
    await restart({ holdMs: 60_000, complete: false });
    const a = staticCluster('a');
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external'), initialResourceVersions: { a: 'old', b: 'whatever' } }));
    await c.expectNoResponse();
    h.cache.setResources('external', TypeUrl.Cluster, [a]);
    const partial = await c.next();
    expect(versions(partial)).toEqual({ a: a.hash });
    expect(partial.removedResources).toEqual([]);
    c.send(ack(partial));
    await c.expectNoResponse();
    h.cache.markComplete();
    const removal = await c.next();
    expect(removal.resources).toEqual([]);
    expect(removal.removedResources).toEqual(['b']);
  });

  it('answers a fresh wildcard subscription only once the cache is complete', async () => {
    await restart({ holdMs: 60_000, complete: false });
    const c = connect();
    c.send(request(TypeUrl.Listener, { node: node('gw-1', 'external') }));
    await c.expectNoResponse();
    h.cache.markComplete();
    const first = await c.next();
    expect(first.resources).toEqual([]);
    expect(first.removedResources).toEqual([]);
  });

  it('resends nothing to a gateway that reconnects holding everything', async () => {
    const a = staticCluster('a');
    h.cache.setResources('external', TypeUrl.Cluster, [a]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external'), initialResourceVersions: { a: a.hash } }));
    await c.expectNoResponse();
    // It holds the current version: synced, not waiting for a response that will never come.
    expect(h.server.streams()[0]!.types[0]).toMatchObject({ ackedVersion: h.cache.version(['external'], TypeUrl.Cluster), awaitingAck: false });
  });

  it('serves named subscriptions: a resource that appears later, and nothing after unsubscribe', async () => {
    const c = connect();
    c.send(request(TypeUrl.Endpoint, { node: node('gw-1', 'external'), resourceNamesSubscribe: ['e1'] }));
    await c.expectNoResponse();
    const e1 = endpoints('e1', 9000);
    h.cache.setResources('external', TypeUrl.Endpoint, [e1, endpoints('e2', 9001)]);
    const appeared = await c.next();
    expect(versions(appeared)).toEqual({ e1: e1.hash });
    c.send(request(TypeUrl.Endpoint, { responseNonce: appeared.nonce, resourceNamesUnsubscribe: ['e1'] }));
    await c.expectNoResponse();
    h.cache.setResources('external', TypeUrl.Endpoint, [endpoints('e1', 9100), endpoints('e2', 9001)]);
    await c.expectNoResponse();
  });

  it('leaves on-demand clusters out of a wildcard subscription and sends them once named, updated and removed', async () => {
    await restart({ holdMs: 60_000, onDemandCluster: (name) => name.includes('/') });
    const option = staticCluster('ferry-ext-authz');
    const revision = edsCluster('default/a-00001:80');
    h.cache.setResources('external', TypeUrl.Cluster, [option, revision, edsCluster('default/b-00001:80')]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const first = await c.next();
    expect(versions(first)).toEqual({ 'ferry-ext-authz': option.hash });
    c.send(ack(first));
    await c.expectNoResponse();

    // Envoy's on-demand CDS names the cluster a request needs, next to its wildcard subscription.
    c.send(request(TypeUrl.Cluster, { resourceNamesSubscribe: ['*', 'default/a-00001:80'] }));
    const named = await c.next();
    expect(versions(named)).toEqual({ 'default/a-00001:80': revision.hash });
    c.send(ack(named));
    await c.expectNoResponse();

    const updated = edsCluster('default/a-00001:80', 1);
    h.cache.setResources('external', TypeUrl.Cluster, [option, updated, edsCluster('default/b-00001:80', 1)]);
    const update = await c.next();
    expect(versions(update)).toEqual({ 'default/a-00001:80': updated.hash });
    c.send(ack(update));

    h.cache.setResources('external', TypeUrl.Cluster, [option]);
    const removal = await c.next();
    expect(removal.resources).toEqual([]);
    expect(removal.removedResources).toEqual(['default/a-00001:80']);
    c.send(ack(removal));
    await c.expectNoResponse();
    // Still named: it comes back with its Service.
    h.cache.setResources('external', TypeUrl.Cluster, [option, revision]);
    expect(versions(await c.next())).toEqual({ 'default/a-00001:80': revision.hash });
  });

  it('records a NACK and keeps going with later changes', async () => {
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a')]);
    const c = connect();
    c.send(request(TypeUrl.Route, { node: node('gw-1', 'external'), resourceNamesSubscribe: ['r1'] }));
    const first = await c.next();
    c.send(request(TypeUrl.Route, { responseNonce: first.nonce, errorDetail: { code: 3, message: 'route r1: unknown cluster a', details: [] } }));
    await c.expectNoResponse();
    expect(h.nackStore.get('gw-1', TypeUrl.Route)).toMatchObject({ resourceNames: ['r1'], message: 'route r1: unknown cluster a' });
    expect(await metricValue(h.metrics, 'ferry_xds_nacks_total', { type: 'routes' })).toBe(1);
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'b')]);
    const next = await c.next();
    c.send(ack(next));
    await expect.poll(() => h.nackStore.get('gw-1', TypeUrl.Route)).toBeUndefined();
  });

  it('holds listeners until new EDS clusters are ACKed and subscribed', async () => {
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    c.send(request(TypeUrl.Listener));
    c.send(ack(await c.next()));
    c.send(ack(await c.next()));
    c.send(request(TypeUrl.Endpoint));
    await c.expectNoResponse();

    h.cache.setAll('external', {
      [TypeUrl.Listener]: [listener('http', 'r1')], [TypeUrl.Endpoint]: [endpoints('svc', 9000)], [TypeUrl.Cluster]: [edsCluster('svc')],
    });
    const clusters = await c.next();
    expect(clusters.typeUrl).toBe(TypeUrl.Cluster);
    c.send(ack(clusters));
    await c.expectNoResponse();
    c.send(request(TypeUrl.Endpoint, { resourceNamesSubscribe: ['svc'] }));
    const [eds, lds] = [await c.next(), await c.next()];
    expect([eds.typeUrl, lds.typeUrl]).toEqual([TypeUrl.Endpoint, TypeUrl.Listener]);
    expect(Object.keys(versions(lds))).toEqual(['http']);
  });

  it('while the cache is incomplete, sends one cluster batch at a time and listeners only once it sent every cluster', async () => {
    await restart({ holdMs: 50, complete: false });
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    c.send(request(TypeUrl.Listener));
    c.send(request(TypeUrl.Endpoint));
    h.cache.setAll('external', { [TypeUrl.Cluster]: [edsCluster('one')], [TypeUrl.Endpoint]: [endpoints('one', 9000)] });
    const first = await c.next();
    expect(Object.keys(versions(first))).toEqual(['one']);
    // The next batch, with a listener whose routes use it, arrives before the first one is ACKed.
    h.cache.applyAll('external', {
      [TypeUrl.Cluster]: { upserts: [edsCluster('two')], removals: [] },
      [TypeUrl.Endpoint]: { upserts: [endpoints('two', 9001)], removals: [] },
      [TypeUrl.Listener]: { upserts: [listener('http', 'r1')], removals: [] },
    });
    await c.expectNoResponse(300); // longer than holdMs: no time bound while incomplete
    c.send(ack(first));
    c.send(request(TypeUrl.Endpoint, { resourceNamesSubscribe: ['one'] }));
    const eds = await c.next();
    expect(eds.typeUrl).toBe(TypeUrl.Endpoint);
    c.send(ack(eds));
    const second = await c.next();
    expect([second.typeUrl, Object.keys(versions(second))]).toEqual([TypeUrl.Cluster, ['two']]);
    c.send(ack(second));
    await c.expectNoResponse(300);
    c.send(request(TypeUrl.Endpoint, { resourceNamesSubscribe: ['two'] }));
    const [eds2, lds] = [await c.next(), await c.next()];
    expect([eds2.typeUrl, lds.typeUrl]).toEqual([TypeUrl.Endpoint, TypeUrl.Listener]);
  });

  it('answers a fresh explicit wildcard subscription even when there is nothing', async () => {
    const c = connect();
    c.send(request(TypeUrl.Listener, { node: node('gw-1', 'external'), resourceNamesSubscribe: ['*'] }));
    const first = await c.next();
    expect(first.resources).toEqual([]);
  });

  it('coalesces updates while a slow gateway does not read, and ends with the latest state', async () => {
    const many = (variant: number) => Array.from({ length: 200 }, (_, i) => staticCluster(`cluster-${i}`, variant));
    h.cache.setResources('external', TypeUrl.Cluster, many(0));
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    await c.next();
    c.pause();
    const updates = 300;
    for (let variant = 1; variant <= updates; variant++) {
      h.cache.setResources('external', TypeUrl.Cluster, many(variant));
      await new Promise((resolve) => setImmediate(resolve));
    }
    c.resume();
    const final = Object.fromEntries(many(updates).map((r) => [r.name, r.hash]));
    const held: Record<string, string> = {};
    let responses = 0;
    while (Object.entries(final).some(([name, hash]) => held[name] !== hash)) {
      Object.assign(held, versions(await c.next()));
      responses++;
    }
    expect(responses).toBeLessThan(updates);
  });

  it('gives a gateway with both roles the union of their resources', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('ext')]);
    h.cache.setResources('local', TypeUrl.Cluster, [staticCluster('loc')]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'gateway', { 'ferry.knative.dev/roles': 'external,local' }) }));
    const first = await c.next();
    expect(Object.keys(versions(first)).sort()).toEqual(['ext', 'loc']);
    c.send(ack(first));
    h.cache.setResources('local', TypeUrl.Cluster, []);
    expect((await c.next()).removedResources).toEqual(['loc']);
    expect(h.server.streams()[0]).toMatchObject({ protocol: 'delta', roles: ['external', 'local'], nodeId: 'gw-1' });
  });
});
