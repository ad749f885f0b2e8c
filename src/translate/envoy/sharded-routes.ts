import type { XdsResource } from '../../xds/resource.js';
import { TypeUrl } from '../../xds/resource-types.js';
import type { GatewayRole } from '../../xds/roles.js';
import type { IngressTranslation } from './ingress-translation.js';
import { assembleRouteTable, routeTableKindFor, scopesFor, type RouteTableKind } from './scoped-routes.js';
import type { SharedBuilds } from './shared-builds.js';
import type { EncodedVirtualHost } from './virtual-host.js';

/*
 * Sharded route tables: scopes as in scoped mode (Host + role → table), but a table holds the virtual hosts of every
 * KIngress whose key hashes to it, S tables per table kind (both, external, local; routeTableKindFor). Envoy spends
 * ~7 KB per RDS table beyond its routes (the subscription, the provider, the config objects; at 10k KIngresses 10k
 * tables cost ~70 MB more than 768 shards), while one table per listener re-sends megabytes on every change and is
 * parsed once per listener. With shards a change sends one table of ~1/S of the virtual hosts.
 */

/**
 * The shard of a KIngress: FNV-1a (32 bits) of its namespace/name. Stable across restarts and replicas, so that they
 * serve the same tables; keys spread evenly whatever their names look like.
 */
export function shardOf(ingressKey: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < ingressKey.length; i += 1) hash = Math.imul(hash ^ ingressKey.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

/**
 * A shard table's name, e.g. `both/shard-17-of-256`: one slash, so it never reads as a KIngress's own table
 * (`<kind>/<namespace>/<name>`), and the shard count in it, so that a change of --route-table-shards renames every table.
 */
export function shardTableName(kind: RouteTableKind, shard: number, shards: number): string {
  return `${kind}/shard-${shard}-of-${shards}`;
}

const SHARD_TABLE_NAME = /^(?:both|external|local)\/shard-\d+-of-\d+$/;

export function isShardTableName(name: string): boolean {
  return SHARD_TABLE_NAME.test(name);
}

/** The shard table that one role's scopes of a KIngress point to, and the virtual hosts the KIngress adds to it. */
export function shardTableFor(role: GatewayRole, translation: IngressTranslation, shards: number): { name: string; virtualHosts: readonly EncodedVirtualHost[] } | undefined {
  const table = routeTableKindFor(role, translation);
  return table && { name: shardTableName(table.kind, shardOf(translation.key, shards), shards), virtualHosts: table.virtualHosts };
}

/** Everything sharded mode serves for one role: `accepted` in key order, the order of members within a table. */
export function shardedRouteResources(role: GatewayRole, accepted: readonly IngressTranslation[], shards: number): { routes: XdsResource[]; scopes: XdsResource[] } {
  const tables = new Map<string, EncodedVirtualHost[]>();
  const scopes: XdsResource[] = [];
  for (const translation of accepted) {
    const table = shardTableFor(role, translation, shards);
    if (!table) continue;
    const virtualHosts = tables.get(table.name) ?? [];
    tables.set(table.name, virtualHosts);
    virtualHosts.push(...table.virtualHosts);
    scopes.push(...scopesFor(role, translation, table.name));
  }
  return { routes: [...tables].map(([name, virtualHosts]) => assembleRouteTable(name, virtualHosts)), scopes };
}

/** What SharedBuilds compares a shard table by: its name and content hash, the same in both roles' assemblers. */
const BY_CONTENT = {};

/**
 * The members of one role's shard tables, for the incremental assembler: a table is assembled again from its members'
 * encoded virtual hosts only when one of them changed, joined or left (work per change proportional to one shard).
 */
export class ShardTables {
  /** Per table: its members' virtual hosts by KIngress key. */
  private readonly members = new Map<string, Map<string, readonly EncodedVirtualHost[]>>();
  private readonly dirty = new Set<string>();

  leave(table: string, key: string): void {
    if (this.members.get(table)?.delete(key)) this.dirty.add(table);
  }

  join(table: string, key: string, virtualHosts: readonly EncodedVirtualHost[]): void {
    let members = this.members.get(table);
    if (!members) this.members.set(table, (members = new Map()));
    members.set(key, virtualHosts);
    this.dirty.add(table);
  }

  /** The tables whose members changed since the last call: assembled, or undefined when left empty (to be removed). */
  changed(shared: SharedBuilds): Array<[string, XdsResource | undefined]> {
    const changed: Array<[string, XdsResource | undefined]> = [];
    for (const table of this.dirty) {
      const members = this.members.get(table)!;
      if (members.size === 0) {
        this.members.delete(table);
        changed.push([table, undefined]);
        continue;
      }
      const virtualHosts = [...members.keys()].sort().flatMap((key) => members.get(key)!);
      const identity = `${table}\n${virtualHosts.map((virtualHost) => virtualHost.hash).join(',')}`;
      changed.push([table, shared.once(TypeUrl.Route, identity, BY_CONTENT, () => assembleRouteTable(table, virtualHosts))]);
    }
    this.dirty.clear();
    return changed;
  }
}
