import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import type { IngressStatus, KIngress } from '../../src/model/ingress.js';
import type { RoleSync } from '../../src/status/gateway-sync.js';
import { ingressStatus } from '../../src/status/ingress-status.js';
import { KubeStatusWriter } from '../../src/status/kube/status-writer.js';
import { DEFAULT_LOAD_BALANCER_HOSTS } from '../../src/status/load-balancers.js';
import type { ReconcileState, ServedIngress } from '../../src/status/served-ingress.js';

/** The writer in isolation: a recording client, a reconcile state and gateway sync set by each test. */
function setup() {
  const patches: Array<{ path: string; status: IngressStatus; resourceVersion: string }> = [];
  const observed = new Map<string, { status: IngressStatus | undefined; resourceVersion: string }>();
  let version = 100;
  const client = {
    mergePatch: async (path: string, body: { status: IngressStatus }) => {
      const resourceVersion = String(++version);
      patches.push({ path, status: body.status, resourceVersion });
      return { metadata: { resourceVersion } };
    },
  } as unknown as KubeClient;
  const state: ReconcileState = { pass: 1, ingresses: new Map(), statuses: [], warnings: [] };
  const world = { leader: true, gateways: 1, syncedPass: 1, invalid: undefined as undefined | { problem: { object: string; field: string; message: string }; generation: number } };
  const sync = (): RoleSync => ({ gateways: world.gateways, syncedPass: world.syncedPass, behind: [] });
  const writer = new KubeStatusWriter({
    client, logger: silentLogger, writesPerSecond: 1000,
    inputs: {
      current: () => state,
      statusOf: (served, programmed) => ingressStatus(served, sync, DEFAULT_LOAD_BALANCER_HOSTS, programmed),
      observedStatus: (key) => observed.get(key),
      invalid: () => world.invalid,
      isLeader: () => world.leader,
    },
  });
  /** The informer sees each write come back (in the order the API server applied them). */
  const echo = async (): Promise<void> => {
    await sleep(20);
    for (const { path, status, resourceVersion } of patches.splice(0)) {
      const key = path.replace(/^.*namespaces\/([^/]+)\/ingresses\/([^/]+)\/status$/, '$1/$2');
      observed.set(key, { status: { ...observed.get(key)?.status, ...status }, resourceVersion });
      writer.observedChanged(key);
    }
  };
  return { patches, observed, state, world, writer, echo };
}

function served(generation: number, changedInPass: number): ServedIngress {
  const ingress: KIngress = {
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress', metadata: { name: 'hello', namespace: 'default', generation },
    spec: { rules: [{ hosts: ['hello.example.com'], visibility: 'ClusterLocal', http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: 'hello', servicePort: 80 }] }] } }] },
  };
  return { ingress, origin: { kind: 'Ingress', namespace: 'default', name: 'hello' }, probeHash: 'h', warnings: [], conflict: undefined, changedInPass };
}

const ready = (status: IngressStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

describe('KIngress status written back in kube mode', () => {
  it('writes a changed status once, through the status subresource, and nothing while it stays the same', async () => {
    const t = setup();
    t.state.ingresses.set('default/hello', served(1, 1));
    t.writer.passDone(t.state);
    await sleep(20);
    expect(t.patches.map((p) => p.path)).toEqual(['/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/hello/status']);
    expect(t.patches[0]!.status).toMatchObject({ observedGeneration: 1, privateLoadBalancer: { ingress: [{ domainInternal: 'ferry-internal.ferry-system.svc.cluster.local' }] } });
    expect(ready(t.patches[0]!.status)).toMatchObject({ status: 'True', lastTransitionTime: expect.any(String) });
    await t.echo();
    t.state.pass = 2;
    t.writer.passDone(t.state);
    t.writer.gatewaysChanged();
    await sleep(20);
    expect(t.patches).toEqual([]);
  });

  it('waits for the gateways (saying so after a second), then writes Ready when they ACK the KIngress\'s pass', async () => {
    const t = setup();
    t.world.syncedPass = 0;
    t.state.ingresses.set('default/hello', served(2, 1));
    t.writer.passDone(t.state);
    await sleep(20);
    expect(t.patches).toEqual([]);
    await sleep(1100);
    expect(ready(t.patches[0]?.status)).toMatchObject({ status: 'Unknown', reason: 'GatewaysNotSynced' });
    await t.echo();
    t.world.syncedPass = 1;
    t.writer.gatewaysChanged();
    await sleep(20);
    expect(ready(t.patches[0]?.status)?.status).toBe('True');
  });

  it('is not fooled by the echo of its own older write arriving after a newer write', async () => {
    const t = setup();
    t.world.syncedPass = 0;
    t.state.ingresses.set('default/hello', served(1, 1));
    t.writer.passDone(t.state);
    await sleep(1100);
    t.world.syncedPass = 1;
    t.writer.gatewaysChanged();
    await sleep(20);
    const [older, newer] = t.patches.splice(0);
    expect([ready(older!.status)?.status, ready(newer!.status)?.status]).toEqual(['Unknown', 'True']);
    // The informer now delivers the older write: the writer knows its newer one is applied and writes nothing.
    t.observed.set('default/hello', { status: older!.status, resourceVersion: older!.resourceVersion });
    t.writer.observedChanged('default/hello');
    await sleep(20);
    expect(t.patches).toEqual([]);
    // Someone else sets a status after Ferry's last write: Ferry puts its own back.
    t.observed.set('default/hello', { status: { observedGeneration: 1, conditions: [] }, resourceVersion: '999' });
    t.writer.observedChanged('default/hello');
    await sleep(20);
    expect(ready(t.patches[0]?.status)?.status).toBe('True');
  });

  it('keeps a generation Ready when its gateways disconnect later (a gateway rollout), and waits again for a new generation', async () => {
    const t = setup();
    t.state.ingresses.set('default/hello', served(1, 1));
    t.writer.passDone(t.state);
    await t.echo();
    t.world.gateways = 0;
    t.writer.gatewaysChanged();
    t.writer.all();
    await sleep(20);
    expect(t.patches).toEqual([]);
    t.state.pass = 2;
    t.state.ingresses.set('default/hello', served(2, 2));
    t.writer.passDone(t.state);
    await sleep(1100);
    expect(t.patches[0]!.status.observedGeneration).toBe(2);
    expect(ready(t.patches[0]!.status)).toMatchObject({ status: 'Unknown', reason: 'NoGateway' });
  });

  it('writes nothing while another replica leads; a new leader catches up on everything', async () => {
    const t = setup();
    t.world.leader = false;
    t.state.ingresses.set('default/hello', served(1, 1));
    t.writer.passDone(t.state);
    await sleep(20);
    expect(t.patches).toEqual([]);
    t.world.leader = true;
    t.writer.all();
    await sleep(20);
    expect(t.patches).toHaveLength(1);
  });

  it('reports an invalid KIngress on NetworkConfigured with the field, at the invalid generation', async () => {
    const t = setup();
    t.state.ingresses.set('default/hello', served(1, 1));
    t.world.invalid = { problem: { object: 'Ingress default/hello', field: 'spec.rules[0].hosts', message: 'must not be empty' }, generation: 2 };
    t.writer.markDirty('default/hello');
    await sleep(20);
    const status = t.patches[0]!.status;
    expect(status.observedGeneration).toBe(2);
    expect(status.conditions?.find((c) => c.type === 'NetworkConfigured')).toMatchObject({ status: 'False', reason: 'ValidationFailed', message: expect.stringContaining('Ingress default/hello: spec.rules[0].hosts: must not be empty') });
    expect(ready(status)?.status).toBe('False');
  });
});
