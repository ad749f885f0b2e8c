import { describe, expect, it } from 'vitest';
import type { KIngress } from '../../src/model/ingress.js';
import { ingressesBlamed, rejectionsOfIngress, type IngressRejection } from '../../src/serve/rejected-objects.js';
import { translateIngress } from '../../src/translate/envoy/index.js';
import { shardedRouteResources } from '../../src/translate/envoy/sharded-routes.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { loadFixture } from '../translate/fixture-context.js';

/** A shard table holding three KIngresses, a, b and c, in key order. */
function shardTable() {
  const kingress = (name: string): KIngress => ({
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress', metadata: { name, namespace: 'default' },
    spec: { rules: [{ hosts: [`${name}.example.com`], visibility: 'ExternalIP', http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'svc', servicePort: 80 }] }] } }] },
  });
  const { ctx } = loadFixture('', { routeTables: 'sharded', routeTableShards: 1 });
  const ingresses = ['a', 'b', 'c'].map(kingress);
  const { routes } = shardedRouteResources('external', ingresses.map((ingress) => translateIngress(ingress, ctx)), 1);
  expect(routes.map((route) => route.name)).toEqual(['both/shard-0-of-1']);
  return { table: routes[0]!, ingresses };
}

describe('the KIngresses a rejected shard route table concerns', () => {
  it("a validation error's position names one member", () => {
    const { table } = shardTable();
    // As Envoy words it: the table's dump (naming every member), then the reason with the virtual host's position.
    const message = `goo.gle/debugproto name: "both/shard-0-of-1" virtual_hosts { name: "default/a:spec.rules[0]" domains: "a.example.com" } virtual_hosts { name: "default/b:spec.rules[0]" } virtual_hosts { name: "default/c:spec.rules[0]" }: Proto constraint validation failed (RouteConfigurationValidationError.VirtualHosts[1]: embedded message failed validation | caused by VirtualHostValidationError.Routes[0]: ...)`;
    expect([...ingressesBlamed(table, message)]).toEqual(['default/b']);
  });

  it('a duplicate domain names the members that hold it', () => {
    const { table } = shardTable();
    expect([...ingressesBlamed(table, 'Only unique values for domains are permitted. Duplicate entry of domain c.example.com in route both/shard-0-of-1')]).toEqual(['default/c']);
    // A longer host that contains a member's is not that member's.
    expect([...ingressesBlamed(table, 'Duplicate entry of domain data.example.com in route both/shard-0-of-1')]).toEqual(['default/a', 'default/b', 'default/c']);
  });

  it('a message cut before its reason (Envoy truncates at 4 KiB, after the dump) concerns every member', () => {
    const { table } = shardTable();
    const message = `goo.gle/debugproto name: "both/shard-0-of-1" virtual_hosts { name: "default/a:spec.rules[0]" ...(truncated)`;
    expect([...ingressesBlamed(table, message)]).toEqual(['default/a', 'default/b', 'default/c']);
  });

  it('rejectionsOfIngress reads the members of a shard rejection, not its name', () => {
    const { ingresses } = shardTable();
    const rejection: IngressRejection = { nodeId: 'gw', typeUrl: TypeUrl.Route, name: 'both/shard-0-of-1', hash: 'h', message: 'm', time: new Date(0), ingresses: new Set(['default/b']) };
    expect(ingresses.map((ingress) => rejectionsOfIngress(ingress, [rejection]).length)).toEqual([0, 1, 0]);
  });
});
