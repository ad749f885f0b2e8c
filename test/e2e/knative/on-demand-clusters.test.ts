import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvoyAdminClient } from '../../../src/envoy/envoy-admin.js';
import { heldResources } from '../harness/envoy-dump.js';
import { printEnvoyLogsOnFailure, request, startFerry, startHttpBackend, stopAllEnvoys, waitFor, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { answerOf, knativeService, revisionService, toYaml } from './routing-manifests.js';

/*
 * Issue 16, `--clusters on-demand`: a gateway on delta xDS holds no revision's cluster until a request needs it; the
 * request waits while Envoy asks Ferry for the cluster (on-demand CDS) and its endpoints (EDS), then is served.
 */

const HOST = { a: 'a.default.example.com', b: 'b.default.example.com', sleepy: 'sleepy.default.example.com' };

/** Knative's activator Service and its one ready endpoint. */
function activator(port: number): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'activator-service', namespace: 'knative-serving' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8012 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: 'activator-service-abcde', namespace: 'knative-serving', labels: { 'kubernetes.io/service-name': 'activator-service' } },
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  ];
}

/** A revision scaled to zero: its public Service has no endpoint. */
function scaledToZero(name: string): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8012 }] } };
}

/** The Service clusters (`namespace/name:port`) the gateway holds now. */
async function serviceClusters(admin: EnvoyAdminClient): Promise<string[]> {
  return (await heldResources(admin)).map((held) => held.key).filter((key) => key.startsWith('cluster/') && key.includes('/', 'cluster/'.length)).map((key) => key.slice('cluster/'.length));
}

describe('--clusters on-demand: a delta gateway loads a revision\'s cluster on the first request that needs it', () => {
  const backends: Record<string, HttpBackend> = {};
  let env: FerryUnderTest;
  printEnvoyLogsOnFailure();

  beforeAll(async () => {
    for (const name of ['a-1', 'a-2', 'b-1', 'activator']) backends[name] = await startHttpBackend({ name });
    env = await startFerry({
      mode: 'delta',
      translateConfig: { clusters: 'on-demand' },
      manifests: {
        'a.yaml': toYaml(...revisionService('a-00001', backends['a-1']!.port), knativeService('a', 'a-00001')),
        'b.yaml': toYaml(...revisionService('b-00001', backends['b-1']!.port), knativeService('b', 'b-00001')),
        'sleepy.yaml': toYaml(scaledToZero('sleepy-00001'), knativeService('sleepy', 'sleepy-00001')),
        'activator.yaml': toYaml(...activator(backends.activator!.port)),
      },
    });
  });
  afterAll(async () => {
    await env?.close();
    await Promise.all(Object.values(backends).map((backend) => backend.close()));
    await stopAllEnvoys();
  });

  it('holds no revision cluster before a request, and serves the first request to a revision', async () => {
    expect(await serviceClusters(env.envoy.admin)).toEqual([]);
    const first = await request(env.ports.external.http, HOST.a);
    expect(answerOf(first).backend).toBe('a-1');
    // Only what the request needed: b's cluster stays with Ferry.
    expect(await serviceClusters(env.envoy.admin)).toEqual(['default/a-00001:80']);
    expect(await env.envoy.admin.stat('cluster_manager.odcds.update_success')).toBeGreaterThanOrEqual(1);
    // Cluster-local hosts and the local listener use the same cluster.
    expect(answerOf(await request(env.ports.local.http, 'a.default.svc.cluster.local')).backend).toBe('a-1');
    expect(await serviceClusters(env.envoy.admin)).toEqual(['default/a-00001:80']);
  });

  it('serves a revision that a change routes to from its first request', async () => {
    await env.writeManifest('a.yaml', toYaml(...revisionService('a-00001', backends['a-1']!.port), ...revisionService('a-00002', backends['a-2']!.port), knativeService('a', 'a-00002')));
    await waitFor(async () => answerOf(await request(env.ports.external.http, HOST.a)).backend === 'a-2', 10_000, 'a served by its new revision');
    // Every request since the change went to the new revision: none waited out the on-demand timeout or failed.
    for (let i = 0; i < 5; i++) expect(answerOf(await request(env.ports.external.http, HOST.a)).backend).toBe('a-2');
    expect(await serviceClusters(env.envoy.admin)).toContain('default/a-00002:80');
  });

  it('sends a scaled-to-zero revision\'s first request to the activator, with the headers that name the revision', async () => {
    const woken = answerOf(await request(env.ports.external.http, HOST.sleepy));
    expect(woken.backend).toBe('activator');
    expect(woken.headers['knative-serving-revision']).toBe('sleepy-00001');
    expect(woken.headers['knative-serving-namespace']).toBe('default');
  });

  it('takes a deleted Service\'s cluster away and loads it again when the Service returns', async () => {
    expect(answerOf(await request(env.ports.external.http, HOST.b)).backend).toBe('b-1');
    const manifest = toYaml(...revisionService('b-00001', backends['b-1']!.port), knativeService('b', 'b-00001'));
    await env.writeManifest('b.yaml', '');
    await waitFor(async () => (await request(env.ports.external.http, HOST.b)).status === 404, 10_000, 'b no longer served');
    await waitFor(async () => !(await serviceClusters(env.envoy.admin)).includes('default/b-00001:80'), 10_000, 'b\'s cluster removed from the gateway');
    await env.writeManifest('b.yaml', manifest);
    await waitFor(async () => (await request(env.ports.external.http, HOST.b)).status === 200, 10_000, 'b served again');
    expect(answerOf(await request(env.ports.external.http, HOST.b)).backend).toBe('b-1');
  });

  it('still answers 404 for a host no KIngress has, without asking for anything', async () => {
    const before = await env.envoy.admin.stat('cluster_manager.odcds.update_attempt');
    expect((await request(env.ports.external.http, 'nobody.default.example.com')).status).toBe(404);
    expect(await env.envoy.admin.stat('cluster_manager.odcds.update_attempt')).toBe(before);
  });
});

describe('--clusters on-demand with a SotW gateway, which cannot ask for clusters', () => {
  let backend: HttpBackend;
  let env: FerryUnderTest;
  printEnvoyLogsOnFailure();

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'a-1' });
    env = await startFerry({ mode: 'sotw', translateConfig: { clusters: 'on-demand' }, manifests: { 'a.yaml': toYaml(...revisionService('a-00001', backend.port), knativeService('a', 'a-00001')) } });
  });
  afterAll(async () => {
    await env?.close();
    await backend?.close();
    await stopAllEnvoys();
  });

  it('gets every cluster with the same listeners, and serves', async () => {
    await waitFor(async () => (await serviceClusters(env.envoy.admin)).includes('default/a-00001:80'), 10_000, 'the SotW gateway holds the revision cluster');
    expect(answerOf(await request(env.ports.external.http, HOST.a)).backend).toBe('a-1');
    expect(await env.envoy.admin.stat('cluster_manager.odcds.update_attempt')).toBe(0);
  });
});
