import { describe, expect, it } from 'vitest';
import type { DiscoveryRequest, DiscoveryResponse } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { AdsTestClient, node } from './ads-client.js';
import { edsCluster, endpoints, listener, names, route, staticCluster } from './fixtures.js';
import { metricValue, serverPerTest, startServer, type Harness } from './harness.js';

type Sotw = AdsTestClient<DiscoveryRequest, DiscoveryResponse>;

function request(typeUrl: string, fields: Partial<DiscoveryRequest> = {}): DiscoveryRequest {
  return { versionInfo: '', resourceNames: [], resourceLocators: [], typeUrl, responseNonce: '', ...fields };
}

function ack(response: DiscoveryResponse, resourceNames: string[] = []): DiscoveryRequest {
  return request(response.typeUrl, { versionInfo: response.versionInfo, responseNonce: response.nonce, resourceNames });
}

function ackedVersion(h: Harness, typeUrl: string): string | undefined {
  return h.server.streams()[0]?.types.find((t) => t.typeUrl === typeUrl)?.ackedVersion;
}

describe('SotW ADS', () => {
  let h: Harness;
  const { connect, restart } = serverPerTest((port) => AdsTestClient.sotw(port), (harness) => (h = harness));

  it('answers the first wildcard request with every cluster, and an ACK gets no answer', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('b')]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const first = await c.next();
    expect(first.typeUrl).toBe(TypeUrl.Cluster);
    expect(names(first.resources)).toEqual(['a', 'b']);
    expect(first.versionInfo).toBe(h.cache.version(['external'], TypeUrl.Cluster));
    expect(first.nonce).not.toBe('');
    c.send(ack(first));
    await c.expectNoResponse();
    const [info] = h.server.streams();
    expect(info!.nodeId).toBe('gw-1');
    expect(info!.protocol).toBe('sotw');
    expect(info!.types.find((t) => t.typeUrl === TypeUrl.Cluster)?.ackedVersion).toBe(first.versionInfo);
    expect(await metricValue(h.metrics, 'ferry_xds_acks_total', { type: 'clusters' })).toBe(1);
  });

  it('sends nothing while the cache is incomplete (a partial set would remove the rest), then the whole set', async () => {
    await restart({ complete: false });
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external'), versionInfo: 'what-it-had' }));
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
    await c.expectNoResponse();
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('b')]);
    h.cache.markComplete();
    const first = await c.next();
    expect(names(first.resources)).toEqual(['a', 'b']);
  });

  it('answers a first wildcard request even when there is nothing, so that Envoy finishes initialising', async () => {
    const c = connect();
    c.send(request(TypeUrl.Listener, { node: node('gw-1', 'external') }));
    const first = await c.next();
    expect(first.resources).toEqual([]);
  });

  it('keeps the last good version on a NACK, records it, and sends the next change', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const v1 = await c.next();
    c.send(ack(v1));
    await expect.poll(() => ackedVersion(h, TypeUrl.Cluster)).toBe(v1.versionInfo);
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a', 1)]);
    const v2 = await c.next();
    c.send(request(TypeUrl.Cluster, {
      versionInfo: v1.versionInfo, responseNonce: v2.nonce, errorDetail: { code: 3, message: 'cluster a: bad connect_timeout', details: [] },
    }));
    await c.expectNoResponse();

    const nack = h.nackStore.get('gw-1', TypeUrl.Cluster);
    expect(nack).toMatchObject({ nodeId: 'gw-1', version: v2.versionInfo, nonce: v2.nonce, resourceNames: ['a'], message: 'cluster a: bad connect_timeout' });
    expect(await metricValue(h.metrics, 'ferry_xds_nacks_total', { type: 'clusters' })).toBe(1);
    const state = h.server.streams()[0]!.types.find((t) => t.typeUrl === TypeUrl.Cluster)!;
    // The NACK is about the one resource the response changed: that content is rejected, the rest counts as taken.
    expect(state.awaitingAck).toBe(false);
    expect(state.lastNack).toBeUndefined();
    expect([...state.rejected.keys()]).toEqual(['a']);
    expect(state.rejected.get('a')).toMatchObject({ message: 'cluster a: bad connect_timeout' });
    expect(await metricValue(h.metrics, 'ferry_xds_rejected_resources', { type: 'clusters', resource: 'a' })).toBe(1);

    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a', 2)]);
    const v3 = await c.next();
    c.send(ack(v3));
    await c.expectNoResponse();
    expect(h.nackStore.get('gw-1', TypeUrl.Cluster)).toBeUndefined();
    expect(state.rejected.size).toBe(0);
    expect(await metricValue(h.metrics, 'ferry_xds_rejected_resources', { type: 'clusters', resource: 'a' })).toBe(0);
  });

  it('ignores a request with a stale nonce', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const v1 = await c.next();
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a', 1)]);
    const v2 = await c.next();
    c.send(ack(v1)); // answers the older response: stale
    await c.expectNoResponse();
    const state = h.server.streams()[0]!.types.find((t) => t.typeUrl === TypeUrl.Cluster)!;
    expect(state.ackedVersion).toBe('');
    expect(state.awaitingAck).toBe(true);
    c.send(ack(v2));
    await c.expectNoResponse();
    expect(ackedVersion(h, TypeUrl.Cluster)).toBe(v2.versionInfo);
  });

  it('sends a named resource when it appears, and stops after unsubscribe', async () => {
    const c = connect();
    c.send(request(TypeUrl.Endpoint, { node: node('gw-1', 'external'), resourceNames: ['e1'] }));
    await c.expectNoResponse();
    h.cache.setResources('external', TypeUrl.Endpoint, [endpoints('e1', 9000), endpoints('e2', 9001)]);
    const r1 = await c.next();
    expect(names(r1.resources)).toEqual(['e1']);
    c.send(ack(r1, ['e1', 'e2']));
    const r2 = await c.next();
    expect(names(r2.resources)).toEqual(['e1', 'e2']);
    c.send(ack(r2, ['e2']));
    await c.expectNoResponse();
    h.cache.setResources('external', TypeUrl.Endpoint, [endpoints('e1', 9100), endpoints('e2', 9001)]);
    await c.expectNoResponse();
    expect(h.server.streams()[0]!.types.find((t) => t.typeUrl === TypeUrl.Endpoint)!.subscribed).toEqual(new Set(['e2']));
  });

  it('sends nothing when an update changes nothing for the stream', async () => {
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a'), route('r2', 'b')]);
    const c = connect();
    c.send(request(TypeUrl.Route, { node: node('gw-1', 'external'), resourceNames: ['r1'] }));
    const r1 = await c.next();
    c.send(ack(r1, ['r1']));
    expect(h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a'), route('r2', 'b')])).toBe(false);
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a'), route('r2', 'c')]); // a route this stream does not want
    h.cache.setResources('local', TypeUrl.Route, [route('r1', 'z')]); // another role
    await c.expectNoResponse();
  });

  it('resends nothing to a gateway that reconnects holding the current version', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
    const first = connect();
    first.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const v1 = await first.next();
    first.close();
    const again = connect();
    again.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external'), versionInfo: v1.versionInfo }));
    await again.expectNoResponse();
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('b')]);
    expect(names((await again.next()).resources)).toEqual(['a', 'b']);
  });

  it('gives each role its own view, and a gateway with both roles the union', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('ext'), staticCluster('shared')]);
    h.cache.setResources('local', TypeUrl.Cluster, [staticCluster('loc'), staticCluster('shared')]);
    const ext = connect();
    const loc = connect();
    const both = connect();
    const byMetadata = connect();
    ext.send(request(TypeUrl.Cluster, { node: node('e', 'ferry-external') }));
    loc.send(request(TypeUrl.Cluster, { node: node('l', 'ferry-local') }));
    both.send(request(TypeUrl.Cluster, { node: node('b', 'ferry-both') }));
    byMetadata.send(request(TypeUrl.Cluster, { node: node('m', 'gateway', { 'ferry.knative.dev/roles': 'local' }) }));
    expect(names((await ext.next()).resources)).toEqual(['ext', 'shared']);
    expect(names((await loc.next()).resources)).toEqual(['loc', 'shared']);
    expect(names((await both.next()).resources)).toEqual(['ext', 'loc', 'shared']);
    expect(names((await byMetadata.next()).resources)).toEqual(['loc', 'shared']);
    h.cache.setResources('local', TypeUrl.Cluster, [staticCluster('loc', 1), staticCluster('shared')]);
    expect(names((await loc.next()).resources)).toEqual(['loc', 'shared']);
    expect(names((await both.next()).resources)).toEqual(['ext', 'loc', 'shared']);
    await ext.expectNoResponse();
  });

  it('pushes clusters and endpoints before listeners and routes, and holds listeners until clusters are ACKed and EDS-subscribed', async () => {
    const c = connect();
    const n = node('gw-1', 'external');
    c.send(request(TypeUrl.Cluster, { node: n }));
    c.send(request(TypeUrl.Listener));
    const emptyClusters = await c.next();
    c.send(ack(emptyClusters));
    const emptyListeners = await c.next();
    expect(emptyListeners.typeUrl).toBe(TypeUrl.Listener);
    c.send(ack(emptyListeners));
    c.send(request(TypeUrl.Endpoint, { resourceNames: [] }));
    c.send(request(TypeUrl.Route, { resourceNames: ['r1'] }));
    await c.expectNoResponse();

    h.cache.setAll('external', {
      [TypeUrl.Route]: [route('r1', 'svc')],
      [TypeUrl.Listener]: [listener('http', 'r1')],
      [TypeUrl.Endpoint]: [endpoints('svc', 9000)],
      [TypeUrl.Cluster]: [edsCluster('svc')],
    });
    const clusters = await c.next();
    expect(clusters.typeUrl).toBe(TypeUrl.Cluster);
    await c.expectNoResponse(); // listeners and routes wait for the cluster ACK
    c.send(ack(clusters));
    await c.expectNoResponse(); // and for the EDS subscription of the new cluster
    c.send(request(TypeUrl.Endpoint, { resourceNames: ['svc'] }));
    const order = [await c.next(), await c.next(), await c.next()].map((r) => r.typeUrl);
    expect(order).toEqual([TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route]);
  });

  it('keeps a removed cluster until the gateway ACKed the routes that no longer use it', async () => {
    h.cache.setAll('external', {
      [TypeUrl.Route]: [route('r1', 'old')],
      [TypeUrl.Cluster]: [staticCluster('old'), staticCluster('new')],
    });
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
    const clusters = await c.next();
    c.send(ack(clusters));
    c.send(request(TypeUrl.Route, { resourceNames: ['r1'] }));
    const routes = await c.next();
    c.send(ack(routes, ['r1']));
    await c.expectNoResponse();

    h.cache.setAll('external', { [TypeUrl.Route]: [route('r1', 'new')], [TypeUrl.Cluster]: [staticCluster('new')] });
    expect(h.cache.isRetained('external', TypeUrl.Cluster, 'old')).toBe(true);
    const newRoutes = await c.next();
    expect(newRoutes.typeUrl).toBe(TypeUrl.Route);
    await c.expectNoResponse(); // clusters unchanged for now: 'old' is still served
    c.send(ack(newRoutes, ['r1']));
    const shrunk = await c.next();
    expect(shrunk.typeUrl).toBe(TypeUrl.Cluster);
    expect(names(shrunk.resources)).toEqual(['new']);
    expect(h.cache.isRetained('external', TypeUrl.Cluster, 'old')).toBe(false);
  });

  it('sends listeners after the bounded wait when the clusters are never ACKed', async () => {
    const short = await startServer({ holdMs: 200 });
    const c = AdsTestClient.sotw(short.port);
    try {
      short.cache.setAll('external', { [TypeUrl.Cluster]: [edsCluster('svc')], [TypeUrl.Listener]: [listener('http', 'r1')] });
      c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
      c.send(request(TypeUrl.Listener));
      expect((await c.next()).typeUrl).toBe(TypeUrl.Cluster);
      expect(names((await c.next()).resources)).toEqual(['http']);
    } finally {
      c.close();
      await short.close();
    }
  });

  it('counts connected gateways and forgets closed streams', async () => {
    const c = connect();
    c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'ferry-both') }));
    await c.next();
    expect(await metricValue(h.metrics, 'ferry_xds_connected_gateways', { role: 'local', protocol: 'sotw' })).toBe(1);
    expect(h.server.streams()[0]!.roles).toEqual(['external', 'local']);
    c.close();
    await expect.poll(() => h.server.streams().length).toBe(0);
    expect(await metricValue(h.metrics, 'ferry_xds_connected_gateways', { role: 'local', protocol: 'sotw' })).toBe(0);
  });
});
