import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_HEADER, LISTENER_HEADER } from '../../../src/translate/envoy/scoped-routes.js';
import { request, startFerry, startHttpBackend, stopAllEnvoys, type FerryUnderTest, type HttpBackend } from '../harness/index.js';
import { answerOf, kingress, revisionService, split, toYaml } from './routing-manifests.js';

// The route table layouts behind a real Envoy: 'scoped' (the default: one table per KIngress chosen by Host over
// SRDS), 'sharded' (chosen by Host as scoped; here one shard per kind, so tables are shared) and 'single' (one table
// per listener). The rest of the end-to-end suite runs the default.
describe.each(['scoped', 'sharded', 'single'] as const)('%s route tables', (routeTables) => {
  let publicBackend: HttpBackend;
  let privateBackend: HttpBackend;
  let env: FerryUnderTest;

  beforeAll(async () => {
    publicBackend = await startHttpBackend({ name: 'public' });
    privateBackend = await startHttpBackend({ name: 'private' });
    const manifests = toYaml(
      ...revisionService('public-00001', publicBackend.port),
      ...revisionService('private-00001', privateBackend.port),
      kingress('public', { rules: [{ hosts: ['public.default.example.com'], visibility: 'ExternalIP', http: { paths: [{ path: '/api', splits: [split('private-00001', 100)] }, { splits: [split('public-00001', 100)] }] } }] }),
      kingress('private', { rules: [{ hosts: ['private.default.svc.cluster.local'], visibility: 'ClusterLocal', http: { paths: [{ splits: [split('private-00001', 100)] }] } }] }),
    );
    env = await startFerry({ manifests: { 'apps.yaml': manifests }, translateConfig: { routeTables, routeTableShards: 1 } });
  });
  afterAll(async () => {
    await env?.close();
    await publicBackend?.close();
    await privateBackend?.close();
    await stopAllEnvoys();
  });

  it('routes by Host, with or without a port, and by longest path', async () => {
    expect(answerOf(await request(env.ports.external.http, 'public.default.example.com', '/')).backend).toBe('public');
    expect(answerOf(await request(env.ports.external.http, `public.default.example.com:${env.ports.external.http}`, '/x')).backend).toBe('public');
    expect(answerOf(await request(env.ports.external.http, 'public.default.example.com', '/api/v1')).backend).toBe('private');
    expect((await request(env.ports.external.http, 'unknown.example.com', '/')).status).toBe(404);
  });

  it('never serves a ClusterLocal host on the external listener, even when the client names another gateway or listener', async () => {
    const before = privateBackend.requests;
    for (const spoofed of <Array<Record<string, string>>>[{ [GATEWAY_HEADER]: 'local' }, { [GATEWAY_HEADER]: 'local', [LISTENER_HEADER]: 'local-http' }, { [LISTENER_HEADER]: 'local-https' }]) {
      const result = await request(env.ports.external.http, 'private.default.svc.cluster.local', '/', spoofed);
      expect(result.status, JSON.stringify(spoofed)).toBe(404);
    }
    expect(privateBackend.requests).toBe(before);
    const local = answerOf(await request(env.ports.local.http, 'private.default.svc.cluster.local', '/', { [GATEWAY_HEADER]: 'external', [LISTENER_HEADER]: 'external-http' }));
    expect(local.backend).toBe('private');
    // Scoped and sharded tables: the gateway and listener headers are Ferry's own and never reach a backend. Single
    // tables do not use them, so a client's headers of those names pass like any other.
    expect(local.headers[GATEWAY_HEADER]).toBe(routeTables === 'single' ? 'external' : undefined);
    expect(local.headers[LISTENER_HEADER]).toBe(routeTables === 'single' ? 'external-http' : undefined);
  });

  it('keeps Envoy\'s scoped routing stats but none per KIngress route table (the gateway bootstrap drops them)', async () => {
    const stats = await env.envoy.admin.stats('rds');
    const names = [...stats.keys()];
    expect(names.filter((name) => /\.rds\.(external|local|both)\//.test(name))).toEqual([]);
    if (routeTables !== 'single') expect(stats.get('http.external-http.scoped_rds.ferry.all_scopes')).toBeGreaterThan(0);
    else expect(names.some((name) => name.includes('.rds.external-http.'))).toBe(true);
  });
});
