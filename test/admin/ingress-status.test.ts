import { describe, expect, it } from 'vitest';
import type { KIngress } from '../../src/model/ingress.js';
import type { ServedIngress } from '../../src/status/served-ingress.js';
import type { RoleSync } from '../../src/status/gateway-sync.js';
import { ingressStatus, rolesOfIngress } from '../../src/status/ingress-status.js';
import { DEFAULT_LOAD_BALANCER_HOSTS } from '../../src/status/load-balancers.js';

function served(visibility: 'ExternalIP' | 'ClusterLocal', changedInPass: number, conflict?: ServedIngress['conflict']): ServedIngress {
  const ingress: KIngress = {
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress', metadata: { name: 'hello', namespace: 'default', generation: 7 },
    spec: { rules: [{ hosts: ['hello.example.com'], visibility, http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello-1', servicePort: 80 }] }] } }] },
  };
  return { ingress, origin: { kind: 'Ingress', namespace: 'default', name: 'hello' }, probeHash: 'h', warnings: [], conflict, changedInPass };
}

const sync = (byRole: Partial<Record<'external' | 'local', RoleSync>>) => (role: 'external' | 'local'): RoleSync => byRole[role] ?? { gateways: 0, syncedPass: 0, behind: [] };
const condition = (status: ReturnType<typeof ingressStatus>, type: string) => status.conditions?.find((c) => c.type === type);

describe('KIngress status from the gateways\' ACKs', () => {
  it('is Ready, with observedGeneration and both load balancers, once every gateway of its roles ACKed its pass', () => {
    const status = ingressStatus(served('ExternalIP', 3), sync({ external: { gateways: 1, syncedPass: 3, behind: [] }, local: { gateways: 2, syncedPass: 5, behind: [] } }), DEFAULT_LOAD_BALANCER_HOSTS);
    expect(status).toEqual({
      observedGeneration: 7,
      conditions: [{ type: 'LoadBalancerReady', status: 'True' }, { type: 'NetworkConfigured', status: 'True' }, { type: 'Ready', status: 'True' }],
      publicLoadBalancer: { ingress: [{ domainInternal: 'ferry.ferry-system.svc.cluster.local' }] },
      privateLoadBalancer: { ingress: [{ domainInternal: 'ferry-internal.ferry-system.svc.cluster.local' }] },
    });
  });

  it('waits for the gateways that have not ACKed the pass of its latest change, naming them', () => {
    const status = ingressStatus(served('ExternalIP', 4), sync({ external: { gateways: 1, syncedPass: 3, behind: ['gw-ext'] }, local: { gateways: 1, syncedPass: 4, behind: [] } }), DEFAULT_LOAD_BALANCER_HOSTS);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'GatewaysNotSynced' });
    expect(condition(status, 'LoadBalancerReady')?.message).toContain('gw-ext (external)');
    expect(status.publicLoadBalancer).toBeUndefined();
  });

  it('is Unknown/NoGateway without a gateway of a role it needs; a cluster-local one needs only the local gateway', () => {
    expect(rolesOfIngress(served('ClusterLocal', 1).ingress)).toEqual(['local']);
    const localOnly = sync({ local: { gateways: 1, syncedPass: 2, behind: [] } });
    expect(condition(ingressStatus(served('ClusterLocal', 1), localOnly, DEFAULT_LOAD_BALANCER_HOSTS), 'Ready')?.status).toBe('True');
    expect(condition(ingressStatus(served('ExternalIP', 1), localOnly, DEFAULT_LOAD_BALANCER_HOSTS), 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NoGateway' });
  });

  it('gives the loser of a host conflict DomainConflict, naming the winner', () => {
    const status = ingressStatus(served('ExternalIP', 1, { ingress: 'default/hello', hosts: ['hello.example.com'], winner: 'default/older' }),
      sync({ external: { gateways: 1, syncedPass: 9, behind: [] }, local: { gateways: 1, syncedPass: 9, behind: [] } }), DEFAULT_LOAD_BALANCER_HOSTS);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'DomainConflict' });
    expect(condition(status, 'Ready')?.message).toContain('default/older');
    expect(condition(status, 'NetworkConfigured')?.status).toBe('True');
  });
});
