import { isExternalRule, type KIngress, type IngressStatus } from '../model/ingress.js';
import type { Condition } from '../model/meta.js';
import type { ServedIngress } from './served-ingress.js';
import type { GatewayRole } from '../xds/roles.js';
import type { RoleSync } from './gateway-sync.js';
import type { LoadBalancerHosts } from './load-balancers.js';

/** Every rule is served by the local gateway; ExternalIP rules (the default) by the external one too. */
export function rolesOfIngress(ingress: KIngress): GatewayRole[] {
  const external = (ingress.spec.rules ?? []).some(isExternalRule);
  return external ? ['external', 'local'] : ['local'];
}

/**
 * A KIngress's status as Knative reads it: NetworkConfigured (Ferry translated it), LoadBalancerReady (every
 * connected gateway of its roles ACKed a configuration that includes its latest change), Ready (both).
 * The loser of a host conflict gets DomainConflict, naming the older KIngress that keeps the host.
 * `programmed`: the gateways already took this very change (kube mode keeps a generation Ready once it was, whatever
 * gateways come and go later).
 */
export function ingressStatus(served: ServedIngress, sync: (role: GatewayRole) => RoleSync, hosts: LoadBalancerHosts, programmed = false): IngressStatus {
  const networkConfigured = condition('NetworkConfigured', 'True');
  const loadBalancer = programmed && !served.conflict ? condition('LoadBalancerReady', 'True') : loadBalancerCondition(served, sync);
  const ready = loadBalancer.status === 'True' ? condition('Ready', 'True') : { ...loadBalancer, type: 'Ready' };
  return {
    observedGeneration: served.ingress.metadata.generation,
    conditions: [loadBalancer, networkConfigured, ready, ...(served.networkConditions ?? [])],
    ...(loadBalancer.status === 'True' ? {
      publicLoadBalancer: { ingress: [{ domainInternal: hosts.public }] },
      privateLoadBalancer: { ingress: [{ domainInternal: hosts.private }] },
    } : {}),
  };
}

function loadBalancerCondition(served: ServedIngress, sync: (role: GatewayRole) => RoleSync): Condition {
  const { conflict } = served;
  if (conflict) {
    return condition('LoadBalancerReady', 'False', 'DomainConflict',
      `host ${conflict.hosts.join(', ')} is already served by the older KIngress ${conflict.winner}; rename the host or delete one of them`);
  }
  let behind = false;
  const waiting: string[] = [];
  for (const role of rolesOfIngress(served.ingress)) {
    const roleSync = sync(role);
    if (roleSync.gateways === 0) {
      return condition('LoadBalancerReady', 'Unknown', 'NoGateway', `no ${role} gateway is connected to Ferry; start one (see \`ferry status\`)`);
    }
    if (roleSync.syncedPass >= served.changedInPass) continue;
    behind = true;
    waiting.push(...roleSync.behind.map((node) => `${node} (${role})`));
  }
  if (behind) {
    const who = waiting.length > 0 ? [...new Set(waiting)].join(', ') : 'all (a change is in flight)';
    return condition('LoadBalancerReady', 'Unknown', 'GatewaysNotSynced', `waiting for gateways to ACK the latest configuration: ${who}; see \`ferry status\``);
  }
  return condition('LoadBalancerReady', 'True');
}

export function condition(type: string, status: Condition['status'], reason?: string, message?: string): Condition {
  return { type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}
