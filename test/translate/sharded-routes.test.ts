import { describe, expect, it } from 'vitest';
import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { seededRandom, type Random } from '../../bench/random.js';
import type { IngressRule, KIngress } from '../../src/model/ingress.js';
import { GatewayAssembler, type GatewayDirty } from '../../src/translate/envoy/gateway-assembler.js';
import { buildGatewayResources, translateIngress, type IngressTranslation, type TranslateConfig } from '../../src/translate/envoy/index.js';
import { shardOf } from '../../src/translate/envoy/sharded-routes.js';
import { PUSH_ORDER, TypeUrl } from '../../src/xds/resource-types.js';
import { GATEWAY_ROLES, type GatewayRole } from '../../src/xds/roles.js';
import { loadFixture } from './fixture-context.js';

/*
 * Sharded route tables: the incremental assembler against a from-scratch build after random changes (hosts moving
 * between KIngresses, visibility and httpOption flips that move a KIngress between table kinds, route changes,
 * removals), and the shapes sharded mode promises: one shard sent per route change, no duplicate domain in a table.
 */

const NOTHING_DIRTY: GatewayDirty = { services: new Set(), secrets: new Set(), all: false };
const SERVICES = ['alpha', 'beta', 'gamma'];
const HOSTS = Array.from({ length: 14 }, (_, i) => `h${i}.example.com`);

const servicesYaml = SERVICES.map((name) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
`).join('---\n');

function context(config: Partial<TranslateConfig>) {
  return loadFixture(servicesYaml, config).ctx;
}

function ingress(name: string, rules: IngressRule[], options: { redirected?: boolean; created?: string } = {}): KIngress {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: options.created ?? '2024-01-01T00:00:00Z' },
    spec: { rules, ...(options.redirected ? { httpOption: 'Redirected' as const } : {}) },
  };
}

function rule(hosts: string[], visibility: 'ExternalIP' | 'ClusterLocal', service: string, header = 'v1'): IngressRule {
  return { hosts, visibility, http: { paths: [{ splits: [{ serviceNamespace: 'default', serviceName: service, servicePort: 80, percent: 100, appendHeaders: { 'X-Version': header } }] }] } };
}

/** A KIngress of one or two rules over a small pool of hosts (so that KIngresses contest hosts) and Services. */
function randomIngress(random: Random, index: number): KIngress {
  const rules = Array.from({ length: 1 + random.int(2) }, () =>
    rule([random.pick(HOSTS), ...(random.chance(0.3) ? [random.pick(HOSTS)] : [])], random.chance(0.6) ? 'ExternalIP' : 'ClusterLocal', random.pick(SERVICES), `v${random.int(3)}`));
  // Ages differ per KIngress and may change, so that the winner of a contested host changes too.
  return ingress(`app-${index}`, rules, { redirected: random.chance(0.2), created: `2024-01-01T00:00:${String(random.int(60)).padStart(2, '0')}Z` });
}

type View = Map<TypeUrl, Map<string, Uint8Array>>;

function applyTo(view: View, update: ReturnType<GatewayAssembler['update']>): void {
  for (const typeUrl of PUSH_ORDER) {
    const table = view.get(typeUrl) ?? new Map<string, Uint8Array>();
    view.set(typeUrl, table);
    for (const name of update.changes[typeUrl].removals) {
      expect(table.has(name), `${name} removed while not served`).toBe(true);
      table.delete(name);
    }
    for (const resource of update.changes[typeUrl].upserts) table.set(resource.name, resource.bytes);
  }
}

function fullBuild(role: GatewayRole, translations: readonly IngressTranslation[], ctx: ReturnType<typeof context>): Record<string, string[]> {
  const full = buildGatewayResources(role, translations, ctx);
  const expected: Record<string, string[]> = {};
  for (const resource of [...full.listeners, ...full.scopedRoutes, ...full.routes, ...full.clusters, ...full.endpoints, ...full.secrets]) {
    (expected[resource.typeUrl] ??= []).push(`${resource.name}=${Buffer.from(resource.bytes).toString('base64')}`);
  }
  for (const list of Object.values(expected)) list.sort();
  return expected;
}

function viewed(view: View): Record<string, string[]> {
  const actual: Record<string, string[]> = {};
  for (const [typeUrl, table] of view) {
    for (const [name, bytes] of table) (actual[typeUrl] ??= []).push(`${name}=${Buffer.from(bytes).toString('base64')}`);
  }
  for (const list of Object.values(actual)) list.sort();
  return actual;
}

/** Envoy rejects a whole table whose domains repeat (compared lower-cased). */
function expectUniqueDomains(view: View, label: string): void {
  for (const [name, bytes] of view.get(TypeUrl.Route) ?? []) {
    const domains = RouteConfiguration.decode(bytes).virtualHosts.flatMap((virtualHost) => virtualHost.domains.map((domain) => domain.toLowerCase()));
    expect(domains.length, `${label}: ${name} has duplicate domains ${domains.filter((d, i) => domains.indexOf(d) !== i).join(', ')}`).toBe(new Set(domains).size);
  }
}

/** Every scope names a table that is served. */
function expectScopesResolve(view: View, label: string): void {
  const tables = view.get(TypeUrl.Route) ?? new Map();
  for (const [name, bytes] of view.get(TypeUrl.ScopedRoute) ?? []) {
    const table = ScopedRouteConfiguration.decode(bytes).routeConfigurationName;
    expect(tables.has(table), `${label}: scope ${name} points to ${table}, which is not served`).toBe(true);
  }
}

describe('sharded route tables', () => {
  for (const [routeTables, shards] of [['sharded', 3], ['sharded', 1], ['scoped', 0]] as const) {
    it(`${routeTables}${shards ? ` (${shards} shards)` : ''}: incremental updates equal a from-scratch build after each of 250 random changes`, () => {
      const ctx = context({ routeTables, ...(shards ? { routeTableShards: shards } : {}) });
      const random = seededRandom(shards + 16);
      const assemblers = Object.fromEntries(GATEWAY_ROLES.map((role) => [role, new GatewayAssembler(role)])) as Record<GatewayRole, GatewayAssembler>;
      const views = Object.fromEntries(GATEWAY_ROLES.map((role) => [role, new Map()])) as Record<GatewayRole, View>;
      for (const role of GATEWAY_ROLES) applyTo(views[role], assemblers[role].update([], [], { ...NOTHING_DIRTY, all: true }, ctx));
      const current = new Map<string, IngressTranslation>();
      for (let step = 0; step < 250; step++) {
        // One to three KIngresses change in a pass: added, changed or removed.
        const changed = new Map<string, IngressTranslation>();
        const removed = new Set<string>();
        for (let n = 1 + random.int(3); n > 0; n--) {
          const index = random.int(12);
          const key = `default/app-${index}`;
          if (current.has(key) && random.chance(0.25)) {
            removed.add(key);
            changed.delete(key);
          } else {
            changed.set(key, translateIngress(randomIngress(random, index), ctx));
            removed.delete(key);
          }
        }
        for (const key of removed) current.delete(key);
        for (const [key, translation] of changed) current.set(key, translation);
        const dirty = random.chance(0.05) ? { ...NOTHING_DIRTY, all: true } : NOTHING_DIRTY;
        for (const role of GATEWAY_ROLES) {
          applyTo(views[role], assemblers[role].update([...changed.values()], [...removed], dirty, ctx));
          const label = `step ${step}, ${role}`;
          expect(viewed(views[role]), label).toEqual(fullBuild(role, [...current.values()], ctx));
          expectUniqueDomains(views[role], label);
          expectScopesResolve(views[role], label);
        }
      }
    });
  }

  it('a route change sends only its shard table; the last member leaving removes the table', () => {
    const ctx = context({ routeTables: 'sharded', routeTableShards: 4 });
    const names = Array.from({ length: 12 }, (_, i) => `app-${i}`);
    const byShard = new Map<number, string[]>();
    for (const name of names) byShard.set(shardOf(`default/${name}`, 4), [...(byShard.get(shardOf(`default/${name}`, 4)) ?? []), name]);
    const [shard, members] = [...byShard].find(([, group]) => group.length >= 2)!;
    const translations = names.map((name, i) => translateIngress(ingress(name, [rule([`${name}.example.com`], 'ExternalIP', 'alpha')], { created: `2024-01-01T00:00:${String(i).padStart(2, '0')}Z` }), ctx));
    const assembler = new GatewayAssembler('external');
    const view: View = new Map();
    applyTo(view, assembler.update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx));
    expect([...view.get(TypeUrl.Route)!.keys()].sort()).toEqual([...byShard.keys()].sort().map((s) => `both/shard-${s}-of-4`));

    const [first, ...others] = members!;
    const changed = translateIngress(ingress(first!, [rule([`${first}.example.com`], 'ExternalIP', 'beta')]), ctx);
    const routeChange = assembler.update([changed], [], NOTHING_DIRTY, ctx);
    expect(routeChange.changes[TypeUrl.Route].upserts.map((r) => r.name)).toEqual([`both/shard-${shard}-of-4`]);
    expect(routeChange.changes[TypeUrl.ScopedRoute]).toEqual({ upserts: [], removals: [] });
    // The same content again: nothing is sent.
    const again = assembler.update([translateIngress(ingress(first!, [rule([`${first}.example.com`], 'ExternalIP', 'beta')]), ctx)], [], NOTHING_DIRTY, ctx);
    for (const typeUrl of PUSH_ORDER) expect(again.changes[typeUrl], typeUrl).toEqual({ upserts: [], removals: [] });

    // Redirected splits the KIngress's table from the local role's: it moves to the external kind's shard.
    const redirected = assembler.update([translateIngress(ingress(first!, [rule([`${first}.example.com`], 'ExternalIP', 'beta')], { redirected: true }), ctx)], [], NOTHING_DIRTY, ctx);
    expect(redirected.changes[TypeUrl.Route].upserts.map((r) => r.name).sort()).toEqual([`both/shard-${shard}-of-4`, `external/shard-${shard}-of-4`]);
    expect(redirected.changes[TypeUrl.ScopedRoute].upserts.map((scope) => ScopedRouteConfiguration.decode(scope.bytes).routeConfigurationName)).toEqual([`external/shard-${shard}-of-4`]);

    const removal = assembler.update([], [`default/${first}`], NOTHING_DIRTY, ctx);
    expect(removal.changes[TypeUrl.Route].removals).toEqual([`external/shard-${shard}-of-4`]);
    const last = assembler.update([], others.map((name) => `default/${name}`), NOTHING_DIRTY, ctx);
    expect(last.changes[TypeUrl.Route].removals).toEqual([`both/shard-${shard}-of-4`]);
  });

  it('shards by a stable hash of namespace/name (the same tables across restarts and replicas), spread evenly', () => {
    // FNV-1a of "default/hello": a change of the hash function moves every KIngress to another table.
    expect(shardOf('default/hello', 256)).toBe(0x3f583541 % 256);
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardOf(`ns-${i % 97}/app-${i}`, 256)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(15);
    expect(Math.max(...counts)).toBeLessThan(70);
  });

  it('a contested host is in one KIngress only: the older one, in every role, whatever their shards', () => {
    const ctx = context({ routeTables: 'sharded', routeTableShards: 1 });
    const older = ingress('older', [rule(['shared.example.com'], 'ClusterLocal', 'alpha'), rule(['only-older.example.com'], 'ExternalIP', 'alpha')], { created: '2024-01-01T00:00:00Z' });
    const newer = ingress('newer', [rule(['shared.example.com', 'only-newer.example.com'], 'ExternalIP', 'beta')], { created: '2024-01-02T00:00:00Z' });
    const translations = [older, newer].map((i) => translateIngress(i, ctx));
    for (const role of GATEWAY_ROLES) {
      const built = buildGatewayResources(role, translations, ctx);
      expect(built.conflicts).toEqual([{ ingress: 'default/newer', hosts: ['shared.example.com'], winner: 'default/older' }]);
      const domains = built.routes.flatMap((table) => RouteConfiguration.decode(table.bytes).virtualHosts.flatMap((virtualHost) => virtualHost.domains));
      // The older KIngress's table serves both roles (a cluster-local host in it has no external scope).
      expect(domains.filter((domain) => domain === 'shared.example.com').length, role).toBe(1);
      expect(domains.some((domain) => domain.startsWith('only-newer')), role).toBe(false);
      const scoped = built.scopedRoutes.map((scope) => ScopedRouteConfiguration.decode(scope.bytes).key!.fragments[0]!.stringKey);
      expect(scoped.includes('shared.example.com'), role).toBe(role === 'local');
    }
  });
});
