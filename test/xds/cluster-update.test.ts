import { describe, expect, it } from 'vitest';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { AdsTestClient, node } from './ads-client.js';
import { edsCluster, endpoints, names } from './fixtures.js';
import { serverPerTest, type Harness } from './harness.js';

/**
 * Envoy warms an updated EDS cluster (a new transport socket, say) again and waits for its endpoints, but asks nothing:
 * it is subscribed to that name already. Unless the endpoints come again, the new cluster takes over only at its
 * initial fetch timeout (15 s; seen through a real Envoy in test/e2e/config-network.test.ts before this was done).
 */
describe('an updated EDS cluster gets its endpoints again', () => {
  let h: Harness;

  describe('delta ADS', () => {
    const { connect } = serverPerTest((port) => AdsTestClient.delta(port), (harness) => (h = harness));
    const request = (typeUrl: string, fields: Partial<DeltaDiscoveryRequest> = {}): DeltaDiscoveryRequest => ({
      typeUrl, resourceNamesSubscribe: [], resourceNamesUnsubscribe: [], resourceLocatorsSubscribe: [], resourceLocatorsUnsubscribe: [],
      initialResourceVersions: {}, responseNonce: '', ...fields,
    });
    const ack = (response: DeltaDiscoveryResponse) => request(response.typeUrl, { responseNonce: response.nonce });

    it('resends the unchanged load assignment after the cluster update, and only that one', async () => {
      h.cache.setAll('external', { [TypeUrl.Cluster]: [edsCluster('svc'), edsCluster('other')], [TypeUrl.Endpoint]: [endpoints('svc', 9000), endpoints('other', 9001)] });
      const c = connect() as AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
      c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
      c.send(ack(await c.next()));
      c.send(request(TypeUrl.Endpoint, { resourceNamesSubscribe: ['svc', 'other'] }));
      const assignments = await c.next();
      expect(assignments.resources.map((r) => r.name).sort()).toEqual(['other', 'svc']);
      c.send(ack(assignments));
      await c.expectNoResponse();

      h.cache.setAll('external', { [TypeUrl.Cluster]: [edsCluster('svc', 1), edsCluster('other')], [TypeUrl.Endpoint]: [endpoints('svc', 9000), endpoints('other', 9001)] });
      const clusters = await c.next();
      expect(clusters.typeUrl).toBe(TypeUrl.Cluster);
      expect(clusters.resources.map((r) => r.name)).toEqual(['svc']);
      const again = await c.next();
      expect(again.typeUrl).toBe(TypeUrl.Endpoint);
      expect(again.resources.map((r) => [r.name, r.version])).toEqual([['svc', endpoints('svc', 9000).hash]]);
      c.send(ack(clusters));
      c.send(ack(again));
      await c.expectNoResponse();
    });
  });

  describe('SotW ADS', () => {
    const { connect } = serverPerTest((port) => AdsTestClient.sotw(port), (harness) => (h = harness));
    const request = (typeUrl: string, fields: Partial<DiscoveryRequest> = {}): DiscoveryRequest => ({ versionInfo: '', resourceNames: [], resourceLocators: [], typeUrl, responseNonce: '', ...fields });
    const ack = (response: DiscoveryResponse, resourceNames: string[] = []) => request(response.typeUrl, { versionInfo: response.versionInfo, responseNonce: response.nonce, resourceNames });

    it('answers with the load assignment again after the cluster update', async () => {
      h.cache.setAll('external', { [TypeUrl.Cluster]: [edsCluster('svc')], [TypeUrl.Endpoint]: [endpoints('svc', 9000)] });
      const c = connect() as AdsTestClient<DiscoveryRequest, DiscoveryResponse>;
      c.send(request(TypeUrl.Cluster, { node: node('gw-1', 'external') }));
      c.send(ack(await c.next()));
      c.send(request(TypeUrl.Endpoint, { resourceNames: ['svc'] }));
      const assignments = await c.next();
      expect(names(assignments.resources)).toEqual(['svc']);
      c.send(ack(assignments, ['svc']));
      await c.expectNoResponse();

      h.cache.setAll('external', { [TypeUrl.Cluster]: [edsCluster('svc', 1)], [TypeUrl.Endpoint]: [endpoints('svc', 9000)] });
      const clusters = await c.next();
      expect(clusters.typeUrl).toBe(TypeUrl.Cluster);
      const again = await c.next();
      expect(again.typeUrl).toBe(TypeUrl.Endpoint);
      expect(names(again.resources)).toEqual(['svc']);
    });
  });
});
