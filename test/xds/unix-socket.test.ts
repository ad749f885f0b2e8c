import { credentials } from '@grpc/grpc-js';
import { AggregatedDiscoveryServiceClient } from 'envoy-proto-ts/envoy/service/discovery/v3/ads';
import type { DeltaDiscoveryResponse } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { XdsCache } from '../../src/xds/cache.js';
import { NackStore } from '../../src/xds/nacks.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { XdsServer } from '../../src/xds/server.js';
import { node } from './ads-client.js';
import { staticCluster } from './fixtures.js';

// Gateways in another network namespace reach Ferry through a unix socket (the kube tests' gateway Envoy does).
it('serves ADS on a unix domain socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-xds-unix-'));
  const socket = join(dir, 'xds.sock');
  const cache = new XdsCache();
  cache.setResources('external', TypeUrl.Cluster, [staticCluster('a')]);
  const server = new XdsServer({ cache, logger: silentLogger, nackStore: new NackStore() });
  const client = new AggregatedDiscoveryServiceClient(`unix:${socket}`, credentials.createInsecure());
  try {
    expect(await server.listen(`unix:${socket}`)).toBe(0);
    const call = client.deltaAggregatedResources();
    const response = new Promise<DeltaDiscoveryResponse>((resolve, reject) => {
      call.once('data', resolve);
      call.once('error', reject);
    });
    call.write({
      node: node('gw-unix', 'external'), typeUrl: TypeUrl.Cluster, resourceNamesSubscribe: [], resourceNamesUnsubscribe: [],
      resourceLocatorsSubscribe: [], resourceLocatorsUnsubscribe: [], initialResourceVersions: {}, responseNonce: '',
    });
    expect((await response).resources.map((r) => r.name)).toEqual(['a']);
    call.cancel();
  } finally {
    client.close();
    await server.close();
    expect(existsSync(socket)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }
});
