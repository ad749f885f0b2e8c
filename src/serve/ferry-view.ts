import type { Store } from '../store/store.js';
import type { FilesSource } from '../sources/files.js';
import { resourceToJson } from '../translate/envoy/index.js';
import type { XdsCache } from '../xds/cache.js';
import type { NackStore } from '../xds/nacks.js';
import { PUSH_ORDER, SHORT_NAME, type TypeUrl } from '../xds/resource-types.js';
import { GATEWAY_ROLES, type GatewayRole } from '../xds/roles.js';
import type { XdsServer } from '../xds/server.js';
import type { Reconciler } from './reconciler.js';

export interface FerryViewSources {
  store: Store;
  cache: XdsCache;
  xds: XdsServer;
  nacks: NackStore;
  reconciler: Reconciler;
  source: FilesSource;
}

/** Read-only answers about a running Ferry, for the admin endpoints and through them the CLI. */
export class FerryView {
  constructor(private readonly sources: FerryViewSources) {}

  configDump(query: { role?: string; type?: string; name?: string }): unknown {
    const { cache } = this.sources;
    const roles = GATEWAY_ROLES.filter((role) => query.role === undefined || query.role === role);
    const types = PUSH_ORDER.filter((typeUrl) => query.type === undefined || SHORT_NAME[typeUrl] === query.type || typeUrl === query.type);
    const dump: Record<string, unknown> = {};
    for (const role of roles) {
      dump[role] = {
        configs: types.map((typeUrl) => ({
          typeUrl,
          version: cache.version([role], typeUrl),
          resources: cache.list([role], typeUrl)
            .filter((resource) => query.name === undefined || resource.name === query.name)
            .map((resource) => ({ name: resource.name, hash: resource.hash, resource: resourceToJson(resource) })),
        })),
      };
    }
    return dump;
  }

  status(): unknown {
    const { xds, nacks, cache, source } = this.sources;
    return {
      gateways: xds.streams().map((stream) => ({
        ...stream,
        types: stream.types.map((type) => ({ ...type, current: cache.version(stream.roles, type.typeUrl), state: syncState(cache, stream.roles, type) })),
      })),
      nacks: nacks.list(),
      problems: source.problems(),
    };
  }

  objects(kind: string): unknown {
    const state = this.sources.reconciler.current();
    if (kind === 'ingresses') {
      return [...state.ingresses.values()].map((served) => ({
        namespace: served.ingress.metadata.namespace,
        name: served.ingress.metadata.name,
        origin: served.origin,
        hosts: (served.ingress.spec.rules ?? []).flatMap((rule) => rule.hosts ?? []),
        conflict: served.conflict,
        warnings: served.warnings,
      }));
    }
    const wanted = kind === 'routes' ? ['Route', 'Service'] : kind === 'domainmappings' ? ['DomainMapping'] : [];
    return state.statuses.filter((status) => wanted.includes(status.object.kind));
  }
}

function syncState(cache: XdsCache, roles: readonly GatewayRole[], type: { typeUrl: TypeUrl; ackedVersion: string; lastNack: string | undefined; awaitingAck: boolean }): 'SYNCED' | 'STALE' | 'NACKED' {
  if (type.lastNack !== undefined) return 'NACKED';
  return type.ackedVersion === cache.version(roles, type.typeUrl) && !type.awaitingAck ? 'SYNCED' : 'STALE';
}
