import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runDump } from '../../src/cli/dump.js';
import { runGet } from '../../src/cli/get.js';
import { notSynced, runStatus } from '../../src/cli/status.js';
import { runValidate } from '../../src/cli/validate.js';
import { TypeUrl } from '../../src/xds/resource-types.js';
import { invalidCluster, request, startHttpBackend, stopAllEnvoys, waitFor, type HttpBackend } from '../e2e/harness/index.js';
import { startObservedFerry, type ObservedFerry } from './capture-ferry.js';
import { selfSignedCertificate } from '../e2e/harness/certs.js';
import { helloManifests, secureManifests } from './fixtures.js';

type Json = Record<string, any>;

/** Every dynamic resource of an Envoy-shaped dump, by "<dump type> <name>". */
function dynamicResources(dump: { configs: Json[] }): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const config of dump.configs) {
    const dumpType = String(config['@type']).split('.').pop();
    for (const [key, list] of Object.entries(config)) {
      if (!key.startsWith('dynamic') || !Array.isArray(list)) continue;
      for (const entry of list as Json[]) {
        // Envoy lists every scope under each connection manager's scoped_routes name; Ferry under its listener's.
        for (const scope of entry.scoped_route_configs ?? []) out.set(`${dumpType} ${scope.name}`, scope);
        if (entry.scoped_route_configs) continue;
        const resource = entry.active_state?.listener ?? entry.cluster ?? entry.route_config ?? entry.secret ?? entry.endpoint_config;
        out.set(`${dumpType} ${resource.name ?? resource.cluster_name}`, resource);
      }
    }
  }
  return out;
}

/** Endpoints as Envoy holds them carry its defaults (locality, weights, health); compare what Ferry decides. */
function endpointAddresses(assignment: Json): string[] {
  return (assignment.endpoints ?? []).flatMap((group: Json) => (group.lb_endpoints ?? []).map((lb: Json) =>
    `${group.priority ?? 0}:${lb.endpoint.address.socket_address.address}:${lb.endpoint.address.socket_address.port_value}`)).sort();
}

describe('operating Ferry: dump, status, get, validate and metrics against a real Envoy', () => {
  let backend: HttpBackend;
  let env: ObservedFerry;
  const certificate = selfSignedCertificate('secure.example.com');
  /** Everything the commands printed, checked for key material at the end. */
  const printed: string[] = [];

  beforeAll(async () => {
    backend = await startHttpBackend({ name: 'hello-world' });
    env = await startObservedFerry({ ...helloManifests(backend.port), 'secure.yaml': secureManifests('secure.example.com', certificate) });
    await waitFor(() => notSynced(env.ferry.view.status()).length === 0, 15_000, 'the gateway to ACK everything');
  });
  afterAll(async () => {
    await env?.close();
    await backend?.close();
    await stopAllEnvoys();
  });

  it('answers /healthz and /readyz once the sources synced and the configuration is built', async () => {
    const base = `http://${env.admin}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    expect((await fetch(`${base}/debug/config_dump?type=nonsense`)).status).toBe(400);
  });

  it('dumps what Envoy\'s own /config_dump reports for the same resources', async () => {
    const result = await runDump({ admin: env.admin, output: 'json' });
    printed.push(result.stdout);
    const ours = JSON.parse(result.stdout) as Record<'external' | 'local', { configs: Json[] }>;
    // The gateway serves both roles: it holds the union of both roles' resources.
    const served = new Map([...dynamicResources(ours.local), ...dynamicResources(ours.external)]);
    const envoyDump = await env.envoy.admin.configDump({ includeEds: true }) as { configs: Json[] };
    const inEnvoy = dynamicResources(envoyDump);
    expect([...served.keys()].sort()).toEqual([...inEnvoy.keys()].sort());
    const kinds = new Set<string>();
    for (const [key, resource] of served) {
      kinds.add(key.split(' ')[0]!);
      if (key.startsWith('EndpointsConfigDump')) expect(endpointAddresses(resource), key).toEqual(endpointAddresses(inEnvoy.get(key)!));
      else expect(resource, key).toEqual(inEnvoy.get(key));
    }
    expect([...kinds].sort()).toEqual(['ClustersConfigDump', 'EndpointsConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'ScopedRoutesConfigDump', 'SecretsConfigDump']);
    // The wrappers carry Envoy's field names too, and scopes are grouped under the same scoped_routes name.
    const scopeGroups = (dump: { configs: Json[] }) => dump.configs.filter((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump').flatMap((c) => (c.dynamic_scoped_route_configs as Json[]).map((g) => g.name));
    expect(scopeGroups(ours.external)).toEqual(scopeGroups(envoyDump));
    const listeners = ours.external.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump')!;
    expect(listeners.dynamic_listeners[0]).toMatchObject({ name: expect.any(String), active_state: { version_info: expect.any(String), listener: expect.any(Object) } });
  });

  it('filters the dump by role, type and name, as JSON or YAML', async () => {
    // hello's external and cluster-local rules route alike: both roles' scopes name one table.
    const routes = await runDump({ admin: env.admin, role: 'external', type: 'routes', name: 'both/default/hello', output: 'yaml' });
    printed.push(routes.stdout);
    const dump = parseYaml(routes.stdout) as { configs: Json[] };
    expect(dump.configs).toHaveLength(1);
    expect(dump.configs[0]!['@type']).toBe('type.googleapis.com/envoy.admin.v3.RoutesConfigDump');
    const tables = dump.configs[0]!.dynamic_route_configs as Json[];
    expect(tables.map((t) => t.route_config.name)).toEqual(['both/default/hello']);
    const domains = tables[0]!.route_config.virtual_hosts.flatMap((vh: Json) => vh.domains);
    expect(domains).toEqual(expect.arrayContaining(['hello.default.example.com', 'hello.default.svc.cluster.local']));
    // The external role has no scope for the cluster-local host: its virtual host is not reachable there.
    const scopes = await runDump({ admin: env.admin, role: 'external', type: 'srds', output: 'json' });
    const keys = (JSON.parse(scopes.stdout).configs[0].dynamic_scoped_route_configs[0].scoped_route_configs as Json[]).map((scope) => scope.key.fragments[0].string_key);
    expect(keys).toContain('hello.default.example.com');
    expect(keys.filter((host: string) => host.endsWith('.cluster.local') || !host.includes('.example.com'))).toEqual([]);
    const secrets = await runDump({ admin: env.admin, role: 'external', type: 'sds', output: 'json' });
    printed.push(secrets.stdout);
    const secret = JSON.parse(secrets.stdout).configs[0].dynamic_active_secrets[0];
    expect(secret.name).toBe('default/secure-cert');
    expect(secret.secret.tls_certificate.private_key).toEqual({ inline_bytes: Buffer.from('[redacted]').toString('base64') });
  });

  it('shows every API of the gateway SYNCED, and --wait returns at once', async () => {
    const table = await runStatus({ admin: env.admin, output: 'table' });
    printed.push(table.stdout);
    const [header, row] = table.stdout.split('\n');
    expect(header!.split(/\s+/)).toEqual(['NODE', 'ROLE', 'ADDRESS', 'CDS', 'EDS', 'SDS', 'LDS', 'SRDS', 'RDS']);
    expect(row!.split(/\s+/)).toEqual(['gateway-both', 'external,local', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED']);
    const waited = await runStatus({ admin: env.admin, output: 'json', waitMs: 5_000 });
    printed.push(waited.stdout);
    expect(waited.exitCode).toBe(0);
    expect(JSON.parse(waited.stdout).gateways[0].types.map((t: Json) => t.state)).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED']);
    const answer = await fetch(`http://${env.admin}/debug/synced`);
    // Sized, not chunked: the head and the body leave in one write (it is polled after every change).
    expect(answer.headers.get('transfer-encoding')).toBeNull();
    const body = await answer.text();
    expect(Number(answer.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toEqual({ pass: env.ferry.reconciler.current().pass, gateways: 1, synced: true });
  });

  it('lists ingresses and routes with the readiness their objects have', async () => {
    const ingresses = await runGet({ admin: env.admin, kind: 'ingresses', namespace: undefined, output: 'table' });
    printed.push(ingresses.stdout);
    const rows = ingresses.stdout.trimEnd().split('\n').map((line) => line.split(/\s{3,}/));
    expect(rows).toEqual([
      ['NAMESPACE', 'NAME', 'URL', 'READY', 'REASON'],
      ['default', 'hello', 'http://hello.default.example.com', 'True'],
      ['default', 'latecomer', 'http://secure.example.com', 'False', 'DomainConflict'],
      ['default', 'secure', 'https://secure.example.com', 'True'],
    ]);
    const json = await runGet({ admin: env.admin, kind: 'ingresses', namespace: 'default', output: 'json' });
    printed.push(json.stdout);
    const byName = new Map((JSON.parse(json.stdout) as Json[]).map((row) => [row.name, row]));
    expect(byName.get('latecomer')!.message).toContain('older KIngress default/secure');
    expect(byName.get('secure')!.status).toMatchObject({
      observedGeneration: 3,
      publicLoadBalancer: { ingress: [{ domainInternal: 'ferry.ferry-system.svc.cluster.local' }] },
      privateLoadBalancer: { ingress: [{ domainInternal: 'ferry-internal.ferry-system.svc.cluster.local' }] },
    });
    expect(byName.get('secure')!.status.conditions.map((c: Json) => `${c.type}=${c.status}`).sort()).toEqual(['LoadBalancerReady=True', 'NetworkConfigured=True', 'Ready=True']);

    const routes = await runGet({ admin: env.admin, kind: 'routes', namespace: 'default', output: 'table' });
    printed.push(routes.stdout);
    expect(routes.stdout).toBe('NAME    URL                                READY   REASON\nhello   http://hello.default.example.com   True\n');
    // What the table says, the gateway does.
    expect((await request(env.translateConfig.ports.external.http, 'hello.default.example.com', '/')).status).toBe(200);
    const none = await runGet({ admin: env.admin, kind: 'domainmappings', namespace: 'default', output: 'table' });
    expect(none.stdout).toBe('No resources found in default namespace.\n');
  });

  it('shows a resource Envoy rejects with Envoy\'s message, in status and in the metrics, the rest of its type synced', async () => {
    env.ferry.cache.applyChanges('external', TypeUrl.Cluster, [invalidCluster('broken-cluster')], []);
    const nack = await waitFor(() => env.ferry.view.status().nacks.find((n) => n.resources.includes('broken-cluster')), 15_000, 'the NACK');
    // The NACK is about the one cluster that changed: Ferry ties it to that resource, and CDS counts as taken otherwise.
    expect(nack).toMatchObject({ nodeId: 'gateway-both', type: 'clusters', resources: ['broken-cluster'] });
    await waitFor(() => env.ferry.view.status().gateways[0]?.types.find((t) => t.api === 'CDS')?.state === 'SYNCED', 15_000, 'CDS synced apart from the rejected cluster');
    const table = await runStatus({ admin: env.admin, output: 'table' });
    printed.push(table.stdout);
    expect(table.stdout.split('\n')[1]!.split(/\s+/).slice(3)).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED']);
    const envoyMessage = nack.message.replace(/\s+/g, ' ').trim();
    expect(envoyMessage).toMatch(/broken-cluster|connect_timeout|Duration/i);
    expect(table.stdout).toContain(`Rejected resources (the gateway keeps their last good version; everything else it took):\n  gateway-both clusters broken-cluster: ${envoyMessage}`);

    const waited = await runStatus({ admin: env.admin, output: 'table', waitMs: 300, pollMs: 50 });
    printed.push(waited.stdout);
    expect(waited.exitCode).toBe(1);
    expect(waited.stdout).toContain(`gateway-both clusters broken-cluster: REJECTED: ${envoyMessage}`);
    expect(await (await fetch(`http://${env.admin}/debug/synced`)).json()).toMatchObject({ gateways: 1, synced: false });

    const metrics = await (await fetch(`http://${env.admin}/metrics`)).text();
    printed.push(metrics);
    expect(metrics).toMatch(/^ferry_xds_nacks_total\{type="clusters"\} [1-9]/m);
    expect(metrics).toMatch(/^ferry_xds_rejected_resources\{type="clusters",resource="broken-cluster"\} 1$/m);
    expect(metrics).toMatch(/^ferry_xds_acks_total\{type="routes"\} [1-9]/m);
    expect(metrics).toMatch(/^ferry_xds_connected_gateways\{role="external",protocol="delta"\} 1/m);
    expect(metrics).toMatch(/^ferry_xds_resources\{role="external",type="secrets"\} 1/m);
    expect(metrics).toMatch(/^ferry_objects\{kind="Secret"\} 1/m);
    expect(metrics).toMatch(/^ferry_translation_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^ferry_xds_push_to_ack_seconds_count\{type="clusters"\} [1-9]/m);

    env.ferry.cache.applyChanges('external', TypeUrl.Cluster, [], ['broken-cluster']);
    await waitFor(() => notSynced(env.ferry.view.status()).length === 0, 15_000, 'the gateway to be SYNCED again');
    expect((await runStatus({ admin: env.admin, output: 'table', waitMs: 5_000 })).exitCode).toBe(0);
  });

  it('validates manifests with file, document, object and field, and diffs them against the running Ferry', async () => {
    const same = await runValidate({ path: env.dir, translateConfig: env.translateConfig, diffAgainst: env.admin });
    printed.push(same.stdout);
    expect(same.stdout).toContain('No change against the running Ferry.');
    // The conflict is a translation finding, an error (the loser is not served): reported against its file and document.
    expect(same.exitCode).toBe(1);
    expect(same.stdout).toContain('secure.yaml (document 2) Ingress default/latecomer: spec.rules[].hosts: DomainConflict: secure.example.com already served by the older KIngress default/secure');

    const dir = mkdtempSync(join(tmpdir(), 'ferry-validate-'));
    try {
      for (const file of readdirSync(env.dir)) writeFileSync(join(dir, file), readFileSync(join(env.dir, file), 'utf8'));
      writeFileSync(join(dir, 'revision-endpoints.yaml'), readFileSync(join(env.dir, 'revision-endpoints.yaml'), 'utf8').replaceAll(`port: ${backend.port}`, 'port: 9'));
      writeFileSync(join(dir, 'bad.yaml'), `apiVersion: v1
kind: Service
metadata: {name: fine, namespace: default}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata: {name: broken, namespace: default}
spec:
  rules:
  - hosts: []
    http: {paths: [{splits: [{serviceNamespace: default, serviceName: fine, servicePort: 80}]}]}
`);
      const changed = await runValidate({ path: dir, translateConfig: env.translateConfig, diffAgainst: env.admin });
      printed.push(changed.stdout);
      expect(changed.exitCode).toBe(1);
      expect(changed.stdout).toMatch(/^bad\.yaml \(document 2\) Ingress default\/broken: spec\.rules\[0\]\.hosts: .+$/m);
      expect(changed.stdout).toContain('~ external endpoints default/hello-world:80 (changed)');
      expect(changed.stdout).toContain('~ local endpoints default/hello-world:80 (changed)');
      expect(changed.stdout).not.toContain('listeners');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never shows the Secret\'s private key: not in any output, log line or metric', async () => {
    printed.push(await (await fetch(`http://${env.admin}/debug/config_dump`)).text());
    printed.push(await (await fetch(`http://${env.admin}/debug/status`)).text());
    printed.push(await (await fetch(`http://${env.admin}/debug/objects?kind=ingresses`)).text());
    printed.push(await (await fetch(`http://${env.admin}/metrics`)).text());
    const keyBody = certificate.key.split('\n').filter((line) => line && !line.startsWith('-----'));
    const secretData = Buffer.from(certificate.key).toString('base64');
    const everything = [...printed, ...env.logs].join('\n');
    expect(env.logs.length).toBeGreaterThan(10);
    expect(printed.length).toBeGreaterThan(15);
    for (const needle of [...keyBody, secretData.slice(0, 40), secretData.slice(40, 80)]) expect(everything).not.toContain(needle);
    // The certificate itself is public and does appear: the check above can see Secret data.
    expect(everything).toContain(Buffer.from(certificate.cert).toString('base64').slice(0, 40));
  });
});
