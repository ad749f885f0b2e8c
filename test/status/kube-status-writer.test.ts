import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import type { IngressStatus, KIngress } from '../../src/model/ingress.js';
import type { RoleSync } from '../../src/status/gateway-sync.js';
import { ingressStatus } from '../../src/status/ingress-status.js';
import { KubeStatusWriter, type StatusWriterInputs } from '../../src/status/kube/status-writer.js';
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
  const state: ReconcileState = { pass: 1, ingresses: new Map(), changed: [], removed: [], statuses: [], warnings: [] };
  const world = { leader: true, gateways: 1, syncedPass: 1, invalid: undefined as undefined | { problem: { object: string; field: string; message: string }; generation: number } };
  const sync = (): RoleSync => ({ gateways: world.gateways, syncedPass: world.syncedPass, behind: [] });
  const inputs: StatusWriterInputs = {
    current: () => state,
    statusOf: (served, programmed) => ingressStatus(served, sync, DEFAULT_LOAD_BALANCER_HOSTS, programmed),
    observedStatus: (key) => observed.get(key),
    invalid: () => world.invalid,
    isLeader: () => world.leader,
  };
  // Through a forwarder, so that a test may replace an input.
  const writer = new KubeStatusWriter({
    client, logger: silentLogger, writesPerSecond: 1000,
    inputs: { current: () => inputs.current(), statusOf: (s, p) => inputs.statusOf(s, p), observedStatus: (k) => inputs.observedStatus(k), invalid: (k) => inputs.invalid(k), isLeader: () => inputs.isLeader() },
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
  /** A reconcile pass that served these KIngresses (at their changedInPass) and changed nothing else. */
  const passDone = (...ingresses: ServedIngress[]): void => {
    for (const ingress of ingresses) state.ingresses.set(`${ingress.ingress.metadata.namespace}/${ingress.ingress.metadata.name}`, ingress);
    state.changed = [...state.ingresses].filter(([, ingress]) => ingress.changedInPass === state.pass).map(([key]) => key);
    writer.passDone(state);
  };
  /** A pass that the gateways ACK `ms` later. */
  const ackedAfter = async (ms: number, ingress: ServedIngress): Promise<void> => {
    world.syncedPass = 0;
    passDone(ingress);
    await sleep(ms);
    world.syncedPass = 1;
    writer.gatewaysChanged();
    await sleep(20);
  };
  return { patches, observed, state, world, inputs, writer, echo, passDone, ackedAfter };
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
    t.passDone(served(1, 1));
    await sleep(20);
    expect(t.patches.map((p) => p.path)).toEqual(['/apis/networking.internal.knative.dev/v1alpha1/namespaces/default/ingresses/hello/status']);
    expect(t.patches[0]!.status).toMatchObject({ observedGeneration: 1, privateLoadBalancer: { ingress: [{ domainInternal: 'ferry-internal.ferry-system.svc.cluster.local' }] } });
    expect(ready(t.patches[0]!.status)).toMatchObject({ status: 'True', lastTransitionTime: expect.any(String) });
    await t.echo();
    t.state.pass = 2;
    t.passDone();
    t.writer.gatewaysChanged();
    await sleep(20);
    expect(t.patches).toEqual([]);
  });

  it('waits for the gateways (saying so after a second), then writes Ready when they ACK the KIngress\'s pass', async () => {
    const t = setup();
    t.world.syncedPass = 0;
    t.passDone(served(2, 1));
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

  it('writes Ready as soon as the gateways ACK within the grace, not when the grace ends', async () => {
    const t = setup();
    await t.ackedAfter(20, served(1, 1));
    expect(t.patches.map((p) => ready(p.status)?.status)).toEqual(['True']);
  });

  it('keeps a KIngress that the API server holds Ready at its generation Ready after a restart, before any gateway connects', async () => {
    const t = setup();
    t.world.gateways = 0;
    const before = served(3, 1);
    const status = ingressStatus(before, () => ({ gateways: 1, syncedPass: 1, behind: [] }), DEFAULT_LOAD_BALANCER_HOSTS);
    t.observed.set('default/hello', { status, resourceVersion: '50' });
    t.passDone(before);
    t.writer.all();
    await sleep(1100);
    expect(t.patches).toEqual([]);
    // Its next generation waits for the gateways again.
    t.state.pass = 2;
    t.passDone(served(4, 2));
    await sleep(1100);
    expect(ready(t.patches[0]?.status)).toMatchObject({ status: 'Unknown', reason: 'NoGateway' });
  });

  it('looks at each of many KIngresses in their grace once, not again and again until it ends', async () => {
    const t = setup();
    t.world.syncedPass = 0;
    let looks = 0;
    const statusOf = t.inputs.statusOf;
    t.inputs.statusOf = (s, programmed) => {
      looks++;
      return statusOf(s, programmed);
    };
    const many = Array.from({ length: 1500 }, (_, i) => ({ ...served(1, 1), ingress: { ...served(1, 1).ingress, metadata: { name: `app-${i}`, namespace: 'default', generation: 1 } } }));
    t.passDone(...many);
    await sleep(300);
    // 1500 looks, each once: all wait out their grace without being looked at again meanwhile.
    expect(looks).toBe(1500);
    expect(t.patches).toEqual([]);
  });

  it('is not fooled by the echo of its own older write arriving after a newer write', async () => {
    const t = setup();
    await t.ackedAfter(1100, served(1, 1));
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
    t.passDone(served(1, 1));
    await t.echo();
    t.world.gateways = 0;
    t.writer.gatewaysChanged();
    t.writer.all();
    await sleep(20);
    expect(t.patches).toEqual([]);
    t.state.pass = 2;
    t.passDone(served(2, 2));
    await sleep(1100);
    expect(t.patches[0]!.status.observedGeneration).toBe(2);
    expect(ready(t.patches[0]!.status)).toMatchObject({ status: 'Unknown', reason: 'NoGateway' });
  });

  it('writes nothing while another replica leads; a new leader catches up on everything', async () => {
    const t = setup();
    t.world.leader = false;
    t.passDone(served(1, 1));
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
