import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseGatewayOptions } from '../../src/model/gateway-options.js';
import { GatewayAssembler, type GatewayDirty } from '../../src/translate/envoy/gateway-assembler.js';
import { buildGatewayResources, translateIngress, type IngressTranslation, type TranslateContext } from '../../src/translate/envoy/index.js';
import { PUSH_ORDER, TypeUrl } from '../../src/xds/resource-types.js';
import { SharedBuilds } from '../../src/translate/envoy/shared-builds.js';
import { GATEWAY_ROLES, type GatewayRole } from '../../src/xds/roles.js';
import { loadFixture } from './fixture-context.js';

const goldenDir = resolve(import.meta.dirname, '../golden');
const NOTHING_DIRTY: GatewayDirty = { services: new Set(), secrets: new Set(), all: false };

/** Applies an update's changes to a name → bytes view, as the xDS cache would. */
function applyTo(view: Map<TypeUrl, Map<string, Buffer>>, update: ReturnType<GatewayAssembler['update']>): void {
  for (const typeUrl of PUSH_ORDER) {
    const table = view.get(typeUrl) ?? new Map<string, Buffer>();
    view.set(typeUrl, table);
    for (const name of update.changes[typeUrl].removals) table.delete(name);
    for (const resource of update.changes[typeUrl].upserts) table.set(resource.name, Buffer.from(resource.bytes));
  }
}

function expectSameAsFullBuild(view: Map<TypeUrl, Map<string, Buffer>>, role: GatewayRole, translations: IngressTranslation[], ctx: TranslateContext, label: string): void {
  const full = buildGatewayResources(role, translations, ctx);
  const expected: Record<string, string[]> = {};
  const actual: Record<string, string[]> = {};
  for (const resource of [...full.listeners, ...full.scopedRoutes, ...full.routes, ...full.clusters, ...full.endpoints, ...full.secrets]) {
    (expected[resource.typeUrl] ??= []).push(`${resource.name}=${Buffer.from(resource.bytes).toString('base64')}`);
  }
  for (const [typeUrl, table] of view) {
    for (const [name, bytes] of table) (actual[typeUrl] ??= []).push(`${name}=${bytes.toString('base64')}`);
  }
  for (const list of [...Object.values(expected), ...Object.values(actual)]) list.sort();
  expect(actual, label).toEqual(expected);
}

function fixture(name: string, routeTables: 'single' | 'scoped' | 'sharded' = 'single') {
  const configPath = join(goldenDir, name, 'config.yaml');
  const config = existsSync(configPath) ? (parse(readFileSync(configPath, 'utf8')) as object) : {};
  // The gateway options of the case: the clusters they name and the routes they change are built incrementally too.
  const optionsPath = join(goldenDir, name, 'config-ferry.yaml');
  const gateway = existsSync(optionsPath) ? { gateway: parseGatewayOptions(parse(readFileSync(optionsPath, 'utf8')) as Record<string, string>).value } : {};
  // Two shards: a golden case's few KIngresses share shard tables.
  return loadFixture(readFileSync(join(goldenDir, name, 'input.yaml'), 'utf8'), { ...config, ...gateway, routeTables, routeTableShards: 2 });
}

describe('GatewayAssembler builds what buildGatewayResources builds, incrementally', () => {
  for (const [name, routeTables] of readdirSync(goldenDir).flatMap((n) => [[n, 'single'], [n, 'scoped'], [n, 'sharded']] as const)) {
    it(`golden case ${name}, ${routeTables} route tables: one KIngress at a time, then removed one at a time`, () => {
      const { ingresses, ctx } = fixture(name, routeTables);
      for (const role of GATEWAY_ROLES) {
        const assembler = new GatewayAssembler(role);
        const view = new Map<TypeUrl, Map<string, Buffer>>();
        applyTo(view, assembler.update([], [], { ...NOTHING_DIRTY, all: true }, ctx));
        const current: IngressTranslation[] = [];
        for (const ingress of ingresses) {
          const translation = translateIngress(ingress, ctx);
          current.push(translation);
          applyTo(view, assembler.update([translation], [], NOTHING_DIRTY, ctx));
          expectSameAsFullBuild(view, role, current, ctx, `${name} ${role} after adding ${translation.key}`);
        }
        const allDirty: GatewayDirty = { services: new Set(current.flatMap((t) => t.dependencies.services)), secrets: new Set(current.flatMap((t) => t.dependencies.secrets)), all: false };
        const again = assembler.update([], [], allDirty, ctx);
        expect(PUSH_ORDER.flatMap((t) => again.changes[t].upserts), `${name} ${role}: unchanged inputs rebuild nothing new`).toEqual([]);
        while (current.length > 0) {
          const removed = current.shift()!;
          applyTo(view, assembler.update([], [removed.key], NOTHING_DIRTY, ctx));
          expectSameAsFullBuild(view, role, current, ctx, `${name} ${role} after removing ${removed.key}`);
        }
      }
    });
  }

  it('new gateway options rebuild the listeners they change and nothing else', () => {
    const { ingresses, ctx } = fixture('tls', 'scoped');
    const translations = ingresses.map((ingress) => translateIngress(ingress, ctx));
    const assembler = new GatewayAssembler('external');
    assembler.update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx);
    const upserted = (data: Record<string, string>) => {
      const update = assembler.update([], [], NOTHING_DIRTY, { ...ctx, config: { ...ctx.config, gateway: parseGatewayOptions(data).value } });
      return PUSH_ORDER.flatMap((typeUrl) => update.changes[typeUrl].upserts.map((resource) => `${typeUrl.split('.').at(-1)} ${resource.name}`));
    };
    // A TLS policy concerns only the HTTPS listener: plain HTTP connections are never drained for it.
    expect(upserted({ 'tls-min-version': '1.3' })).toEqual(['Listener external-https']);
    expect(upserted({ 'tls-min-version': '1.3', 'access-log': 'json' })).toEqual(['Listener external-http', 'Listener external-https']);
    // The same options again (a new object, equal content): nothing is sent.
    expect(upserted({ 'tls-min-version': '1.3', 'access-log': 'json' })).toEqual([]);
  });

  it('the roles of one pass share the clusters, load assignments and route tables they build alike', () => {
    const { ingresses, ctx } = fixture('cluster-local', 'scoped');
    const translations = ingresses.map((ingress) => translateIngress(ingress, ctx));
    const shared = new SharedBuilds();
    const external = new GatewayAssembler('external').update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx, shared);
    const local = new GatewayAssembler('local').update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx, shared);
    const same = (typeUrl: TypeUrl) => external.changes[typeUrl].upserts.filter((resource) => local.changes[typeUrl].upserts.includes(resource)).map((r) => r.name);
    expect(same(TypeUrl.Cluster)).toEqual(['default/mixed-00001:80']);
    expect(same(TypeUrl.Endpoint)).toEqual(['default/mixed-00001:80']);
    expect(same(TypeUrl.Route)).toEqual(['both/default/mixed']);
    // Another pass builds anew: what it reads may have changed.
    const next = new GatewayAssembler('local').update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx, new SharedBuilds());
    expect(next.changes[TypeUrl.Cluster].upserts.filter((resource) => external.changes[TypeUrl.Cluster].upserts.includes(resource))).toEqual([]);
    expect(next.changes[TypeUrl.Cluster].upserts.map((r) => r.hash)).toEqual(local.changes[TypeUrl.Cluster].upserts.map((r) => r.hash));
  });

  it('scoped tables: a route change sends the table again and no scope, a new host only its own scope', () => {
    const { ingresses, ctx } = fixture('basic', 'scoped');
    const assembler = new GatewayAssembler('local');
    const view = new Map<TypeUrl, Map<string, Buffer>>();
    const translations = ingresses.map((ingress) => translateIngress(ingress, ctx));
    applyTo(view, assembler.update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx));
    const ingress = structuredClone(ingresses[0]!);
    const rule = ingress.spec.rules![0]!;
    rule.http!.paths[0]!.appendHeaders = { 'X-Changed': 'yes' };
    const routeChange = assembler.update([translateIngress(ingress, ctx)], [], NOTHING_DIRTY, ctx);
    applyTo(view, routeChange);
    expect(routeChange.changes[TypeUrl.ScopedRoute]).toEqual({ upserts: [], removals: [] });
    expect(routeChange.changes[TypeUrl.Route].upserts).toHaveLength(1);
    rule.hosts = [...rule.hosts!, 'added.example.com'];
    const hostChange = assembler.update([translateIngress(ingress, ctx)], [], NOTHING_DIRTY, ctx);
    applyTo(view, hostChange);
    expect(hostChange.changes[TypeUrl.ScopedRoute].upserts.map((scope) => scope.name)).toEqual([expect.stringContaining('added.example.com')]);
    expectSameAsFullBuild(view, 'local', [translateIngress(ingress, ctx), ...translations.slice(1)], ctx, 'after a route change and a new host');
  });

  it('an EndpointSlice change rebuilds only the endpoints of that Service', () => {
    const { ingresses, ctx } = fixture('activator-fallback');
    const assembler = new GatewayAssembler('external');
    const translations = ingresses.map((ingress) => translateIngress(ingress, ctx));
    assembler.update(translations, [], { ...NOTHING_DIRTY, all: true }, ctx);
    const service = translations[0]!.dependencies.services[0]!;
    const update = assembler.update([], [], { ...NOTHING_DIRTY, services: new Set([service]) }, ctx);
    for (const typeUrl of PUSH_ORDER) expect(update.changes[typeUrl].upserts).toEqual([]);
  });
});
