import type { EnvoyAdminClient } from '../../../src/envoy/envoy-admin.js';

/** One xDS resource as a gateway holds it, from its /config_dump?include_eds. */
export interface HeldResource {
  /** `listener`, `cluster`, `route`, `scoped-route`, `endpoints` or `secret`, then `/` and the resource name. */
  key: string;
  /** The version the gateway took it at (Ferry's content hash for delta xDS). */
  version: string;
  /** When the gateway last took a response carrying it ('' when Envoy does not say). */
  lastUpdated: string;
  /** The resource itself; only the name for a secret (Envoy redacts the rest). */
  content: unknown;
}

interface DynamicEntry {
  name?: string;
  version_info?: string;
  last_updated?: string;
  active_state?: { version_info?: string; last_updated?: string; listener?: { name: string } };
  warming_state?: unknown;
  cluster?: { name: string };
  route_config?: { name: string };
  scoped_route_configs?: Array<{ name: string }>;
  endpoint_config?: { cluster_name: string };
}

/** Where each dynamic resource sits in Envoy's config dump, and how it is named. */
const SECTIONS: Array<{ field: string; kind: string; content: (entry: DynamicEntry) => unknown; name: (entry: DynamicEntry) => string }> = [
  { field: 'dynamic_listeners', kind: 'listener', content: (e) => e.active_state?.listener, name: (e) => e.name ?? '' },
  { field: 'dynamic_active_clusters', kind: 'cluster', content: (e) => e.cluster, name: (e) => e.cluster?.name ?? '' },
  { field: 'dynamic_route_configs', kind: 'route', content: (e) => e.route_config, name: (e) => e.route_config?.name ?? '' },
  { field: 'dynamic_scoped_route_configs', kind: 'scoped-route', content: (e) => e.scoped_route_configs, name: (e) => e.name ?? '' },
  { field: 'dynamic_endpoint_configs', kind: 'endpoints', content: (e) => e.endpoint_config, name: (e) => e.endpoint_config?.cluster_name ?? '' },
  { field: 'dynamic_active_secrets', kind: 'secret', content: (e) => e.name, name: (e) => e.name ?? '' },
];

/** Resources the gateway is still warming: a gateway that converged has none. */
const WARMING_SECTIONS = ['dynamic_warming_clusters', 'dynamic_warming_secrets'];

/**
 * Every dynamic resource the gateway holds (listeners, clusters, route tables, scoped routes, endpoints, secret
 * names), sorted by key; throws when something is still warming, since a dump then says nothing stable.
 */
export async function heldResources(admin: EnvoyAdminClient): Promise<HeldResource[]> {
  const dump = await admin.configDump({ includeEds: true }) as { configs: Array<Record<string, unknown>> };
  const held: HeldResource[] = [];
  for (const config of dump.configs) {
    for (const field of WARMING_SECTIONS) {
      const warming = config[field] as unknown[] | undefined;
      if (warming && warming.length > 0) throw new Error(`the gateway is still warming ${warming.length} ${field.replace('dynamic_warming_', '')}`);
    }
    for (const section of SECTIONS) {
      for (const entry of (config[section.field] as DynamicEntry[] | undefined) ?? []) {
        if (section.kind === 'listener' && entry.warming_state) throw new Error(`the gateway is still warming listener ${entry.name}`);
        const state = entry.active_state ?? entry;
        held.push({ key: `${section.kind}/${section.name(entry)}`, version: state.version_info ?? '', lastUpdated: state.last_updated ?? '', content: section.content(entry) });
      }
    }
  }
  return held.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The configuration alone, without versions and times: two gateways that serve the same thing compare equal. */
export function configurationOf(held: readonly HeldResource[]): Array<{ key: string; content: unknown }> {
  return held.map(({ key, content }) => ({ key, content }));
}

/** What changed between two snapshots of one gateway: resources added, removed, taken again at the same version, or at another. */
export function compareHeld(before: readonly HeldResource[], after: readonly HeldResource[]): { added: string[]; removed: string[]; resentUnchanged: string[]; updated: string[]; untouched: number } {
  const previous = new Map(before.map((resource) => [resource.key, resource]));
  const result = { added: [] as string[], removed: [] as string[], resentUnchanged: [] as string[], updated: [] as string[], untouched: 0 };
  for (const resource of after) {
    const old = previous.get(resource.key);
    previous.delete(resource.key);
    if (!old) result.added.push(resource.key);
    else if (old.version !== resource.version) result.updated.push(resource.key);
    else if (old.lastUpdated !== resource.lastUpdated) result.resentUnchanged.push(resource.key);
    else result.untouched += 1;
  }
  result.removed = [...previous.keys()];
  return result;
}
