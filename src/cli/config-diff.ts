import type { EnvoyConfigDump } from '../admin/config-dump.js';
import { SHORT_NAME, TypeUrl } from '../xds/resource-types.js';
import { GATEWAY_ROLES, type GatewayRole } from '../xds/roles.js';
import type { XdsCache } from '../xds/cache.js';

export interface ResourceChange {
  change: 'added' | 'changed' | 'removed';
  role: GatewayRole;
  type: string;
  name: string;
}

const DUMP_TYPES: Record<string, TypeUrl> = {
  'type.googleapis.com/envoy.admin.v3.ClustersConfigDump': TypeUrl.Cluster,
  'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump': TypeUrl.Endpoint,
  'type.googleapis.com/envoy.admin.v3.ListenersConfigDump': TypeUrl.Listener,
  'type.googleapis.com/envoy.admin.v3.RoutesConfigDump': TypeUrl.Route,
  'type.googleapis.com/envoy.admin.v3.SecretsConfigDump': TypeUrl.Secret,
};

/** name → content hash of every resource in a Ferry dump (its version_info is the resource's hash). */
export function hashesFromDump(dump: EnvoyConfigDump): Map<TypeUrl, Map<string, string>> {
  const out = new Map<TypeUrl, Map<string, string>>();
  for (const config of dump.configs) {
    const typeUrl = DUMP_TYPES[String(config['@type'])];
    if (!typeUrl) continue;
    const hashes = new Map<string, string>();
    for (const [key, list] of Object.entries(config)) {
      if (!Array.isArray(list)) continue;
      for (const entry of list as Array<Record<string, any>>) {
        const name = entry.name ?? entry.cluster?.name ?? entry.route_config?.name ?? entry.endpoint_config?.cluster_name;
        if (typeof name === 'string') hashes.set(name, String(entry.version_info ?? entry.active_state?.version_info ?? key));
      }
    }
    out.set(typeUrl, hashes);
  }
  return out;
}

/** What would change in the running Ferry's served resources if it read these manifests instead. */
export function diffResources(local: XdsCache, running: Partial<Record<GatewayRole, EnvoyConfigDump>>): ResourceChange[] {
  const changes: ResourceChange[] = [];
  for (const role of GATEWAY_ROLES) {
    const dump = running[role];
    const theirs = dump ? hashesFromDump(dump) : new Map<TypeUrl, Map<string, string>>();
    for (const typeUrl of Object.values(DUMP_TYPES)) {
      const type = SHORT_NAME[typeUrl];
      const before = theirs.get(typeUrl) ?? new Map<string, string>();
      const after = new Map(local.list([role], typeUrl).map((r) => [r.name, r.hash]));
      for (const [name, hash] of after) {
        if (!before.has(name)) changes.push({ change: 'added', role, type, name });
        else if (before.get(name) !== hash) changes.push({ change: 'changed', role, type, name });
      }
      for (const name of before.keys()) if (!after.has(name)) changes.push({ change: 'removed', role, type, name });
    }
  }
  return changes;
}
