import { describe, expect, it } from 'vitest';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import { TypeUrl } from '../../src/xds/resource-types.js';
import type { StreamTypeInfo } from '../../src/xds/stream-info.js';
import { AdsTestClient, node } from './ads-client.js';
import { names, route, secret, staticCluster } from './fixtures.js';
import { metricValue, serverPerTest, type Harness } from './harness.js';

/*
 * A NACK is tied to the resources it is about, and only those wait for a fix: the gateway keeps their last good
 * version, Ferry does not send that content again, every other update keeps flowing, and the stream counts as synced
 * apart from them. A response that changed several resources is probed one resource at a time to find the culprit.
 */

const REJECTION = { code: 3, message: 'invalid header name', details: [] };

function routesOf(h: Harness): StreamTypeInfo {
  return h.server.streams()[0]!.types.find((t) => t.typeUrl === TypeUrl.Route)!;
}

function synced(h: Harness): boolean {
  const state = routesOf(h);
  return !state.awaitingAck && state.lastNack === undefined && state.ackedVersion === h.cache.version(['external'], TypeUrl.Route);
}

describe('rejected resources over delta ADS', () => {
  let h: Harness;
  const { connect } = serverPerTest((port) => AdsTestClient.delta(port), (harness) => (h = harness));
  const request = (fields: Partial<DeltaDiscoveryRequest> = {}): DeltaDiscoveryRequest => ({
    typeUrl: TypeUrl.Route, resourceNamesSubscribe: [], resourceNamesUnsubscribe: [], resourceLocatorsSubscribe: [], resourceLocatorsUnsubscribe: [],
    initialResourceVersions: {}, responseNonce: '', ...fields,
  });
  const ack = (response: DeltaDiscoveryResponse) => request({ responseNonce: response.nonce });
  const nack = (response: DeltaDiscoveryResponse) => request({ responseNonce: response.nonce, errorDetail: REJECTION });
  const sentNames = (response: DeltaDiscoveryResponse) => response.resources.map((resource) => resource.name);

  it('probes a NACKed response of two changes one resource at a time, rejects the culprit alone, and recovers when it is fixed', async () => {
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a'), route('r2', 'a')]);
    const c = connect() as AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
    c.send(request({ node: node('gw-1', 'external'), resourceNamesSubscribe: ['r1', 'r2'] }));
    c.send(ack(await c.next()));
    await expect.poll(() => synced(h)).toBe(true);

    // Two changes in one response; the gateway rejects it.
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'bad'), route('r2', 'b')]);
    const both = await c.next();
    expect(sentNames(both).sort()).toEqual(['r1', 'r2']);
    c.send(nack(both));
    // Each is sent again alone, the next only once the previous is answered.
    const firstProbe = await c.next();
    expect(firstProbe.resources).toHaveLength(1);
    await c.expectNoResponse();
    const [probed] = sentNames(firstProbe);
    c.send(probed === 'r1' ? nack(firstProbe) : ack(firstProbe));
    const secondProbe = await c.next();
    expect(sentNames(secondProbe)).toEqual([probed === 'r1' ? 'r2' : 'r1']);
    c.send(probed === 'r1' ? ack(secondProbe) : nack(secondProbe));

    await expect.poll(() => synced(h)).toBe(true);
    expect([...routesOf(h).rejected.keys()]).toEqual(['r1']);
    expect(h.nackStore.list().map((entry) => entry.resourceNames)).toEqual([['r1']]);
    expect(await metricValue(h.metrics, 'ferry_xds_rejected_resources', { type: 'routes', resource: 'r1' })).toBe(1);

    // Other updates keep flowing, without the rejected content; the rejection outlives their ACKs.
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'bad'), route('r2', 'c')]);
    const other = await c.next();
    expect(sentNames(other)).toEqual(['r2']);
    c.send(ack(other));
    await expect.poll(() => synced(h)).toBe(true);
    expect([...routesOf(h).rejected.keys()]).toEqual(['r1']);
    expect(h.nackStore.get('gw-1', TypeUrl.Route)?.resourceNames).toEqual(['r1']);

    // Fixed: sent, ACKed, no rejection left.
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'fixed'), route('r2', 'c')]);
    const fixed = await c.next();
    expect(sentNames(fixed)).toEqual(['r1']);
    c.send(ack(fixed));
    await expect.poll(() => routesOf(h).rejected.size).toBe(0);
    expect(h.nackStore.list()).toEqual([]);
    expect(await metricValue(h.metrics, 'ferry_xds_rejected_resources', { type: 'routes', resource: 'r1' })).toBe(0);
  });

  it('reports every probed resource, saying so, when the gateway takes each alone after rejecting them together', async () => {
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a'), route('r2', 'a')]);
    const c = connect() as AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
    c.send(request({ node: node('gw-1', 'external'), resourceNamesSubscribe: ['r1', 'r2'] }));
    c.send(ack(await c.next()));
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'b'), route('r2', 'b')]);
    c.send(nack(await c.next()));
    // As Envoy's SDS does with a content it once rejected: each alone is ACKed.
    c.send(ack(await c.next()));
    c.send(ack(await c.next()));
    await expect.poll(() => routesOf(h).rejected.size).toBe(2);
    expect(routesOf(h).rejected.get('r1')?.message).toMatch(/invalid header name \(the gateway rejected an update of 2 routes together and took each alone afterwards; which of them it does not apply is not known\)/);
    await expect.poll(() => synced(h)).toBe(true);
  });

  it('sends changed Secrets one per response once the gateway took its first ones', async () => {
    h.cache.setResources('external', TypeUrl.Secret, [secret('s1'), secret('s2')]);
    const c = connect() as AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
    c.send(request({ typeUrl: TypeUrl.Secret, node: node('gw-1', 'external'), resourceNamesSubscribe: ['s1', 's2'] }));
    const first = await c.next();
    expect(sentNames(first).sort()).toEqual(['s1', 's2']);
    c.send(request({ typeUrl: TypeUrl.Secret, responseNonce: first.nonce }));
    await expect.poll(() => h.server.streams()[0]!.types[0]!.ackedVersion).toBe(first.systemVersionInfo);
    h.cache.setResources('external', TypeUrl.Secret, [secret('s1', 1), secret('s2', 1)]);
    const one = await c.next();
    expect(one.resources).toHaveLength(1);
    await c.expectNoResponse();
    c.send(request({ typeUrl: TypeUrl.Secret, responseNonce: one.nonce }));
    const other = await c.next();
    expect([...sentNames(one), ...sentNames(other)].sort()).toEqual(['s1', 's2']);
    c.send(request({ typeUrl: TypeUrl.Secret, responseNonce: other.nonce }));
    await expect.poll(() => h.server.streams()[0]!.types[0]!.ackedVersion).toBe(h.cache.version(['external'], TypeUrl.Secret));
  });
});

describe('rejected resources over SotW ADS', () => {
  let h: Harness;
  const { connect } = serverPerTest((port) => AdsTestClient.sotw(port), (harness) => (h = harness));
  const request = (fields: Partial<DiscoveryRequest> = {}): DiscoveryRequest => ({
    versionInfo: '', resourceNames: ['r1', 'r2'], resourceLocators: [], typeUrl: TypeUrl.Route, responseNonce: '', ...fields,
  });
  const ack = (response: DiscoveryResponse) => request({ versionInfo: response.versionInfo, responseNonce: response.nonce });
  const nack = (response: DiscoveryResponse, version: string) => request({ versionInfo: version, responseNonce: response.nonce, errorDetail: REJECTION });

  it('leaves a rejected route out of later responses (Envoy would stop at it) until it is fixed', async () => {
    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'a'), route('r2', 'a')]);
    const c = connect() as AdsTestClient<DiscoveryRequest, DiscoveryResponse>;
    c.send(request({ node: node('gw-1', 'external') }));
    const first = await c.next();
    c.send(ack(first));
    await expect.poll(() => synced(h)).toBe(true);

    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'bad'), route('r2', 'a')]);
    const bad = await c.next();
    expect(names(bad.resources)).toEqual(['r1', 'r2']);
    c.send(nack(bad, first.versionInfo));
    await expect.poll(() => synced(h)).toBe(true);
    expect([...routesOf(h).rejected.keys()]).toEqual(['r1']);

    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'bad'), route('r2', 'b')]);
    const other = await c.next();
    expect(names(other.resources)).toEqual(['r2']);
    c.send(ack(other));
    await expect.poll(() => synced(h)).toBe(true);
    expect([...routesOf(h).rejected.keys()]).toEqual(['r1']);

    h.cache.setResources('external', TypeUrl.Route, [route('r1', 'fixed'), route('r2', 'b')]);
    const fixed = await c.next();
    expect(names(fixed.resources)).toEqual(['r1', 'r2']);
    c.send(ack(fixed));
    await expect.poll(() => routesOf(h).rejected.size).toBe(0);
    expect(h.nackStore.list()).toEqual([]);
  });

  it('ties a NACK of a wildcard type to the resources Envoy\'s message names, and blames no other', async () => {
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a'), staticCluster('a:80')]);
    const c = connect() as AdsTestClient<DiscoveryRequest, DiscoveryResponse>;
    const clusters = (fields: Partial<DiscoveryRequest> = {}) => request({ typeUrl: TypeUrl.Cluster, resourceNames: [], ...fields });
    c.send(clusters({ node: node('gw-1', 'external') }));
    const first = await c.next();
    c.send(clusters({ versionInfo: first.versionInfo, responseNonce: first.nonce }));
    h.cache.setResources('external', TypeUrl.Cluster, [staticCluster('a', 1), staticCluster('a:80', 1)]);
    const both = await c.next();
    c.send(clusters({ versionInfo: first.versionInfo, responseNonce: both.nonce, errorDetail: { code: 13, message: 'Error adding/updating cluster(s) a:80: bad', details: [] } }));
    const state = () => h.server.streams()[0]!.types.find((t) => t.typeUrl === TypeUrl.Cluster)!;
    await expect.poll(() => [...state().rejected.keys()]).toEqual(['a:80']);
    expect(state().lastNack).toBeUndefined();
  });
});
