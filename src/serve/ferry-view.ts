import { buildConfigDump, type ConfigDumpQuery, type EnvoyConfigDump } from '../admin/config-dump.js';
import { isExternalRule, type IngressStatus, type KIngress } from '../model/ingress.js';
import { formatValidationError } from '../model/validation-error.js';
import type { SourceProblem } from '../sources/source.js';
import { GatewaySyncTracker, type RoleSync } from '../status/gateway-sync.js';
import { ingressStatus } from '../status/ingress-status.js';
import { DEFAULT_LOAD_BALANCER_HOSTS, type LoadBalancerHosts } from '../status/load-balancers.js';
import { knativeObjectConditions } from '../status/object-status.js';
import { typeSyncState } from '../status/sync-state.js';
import { readyOf, type GatewayStatus, type ObjectRow, type StatusReport } from '../status/views.js';
import type { Store } from '../store/store.js';
import { referenceKey } from '../translate/knative/index.js';
import type { XdsCache } from '../xds/cache.js';
import type { NackStore } from '../xds/nacks.js';
import { currentRejections } from '../xds/rejections.js';
import { API_NAME, SHORT_NAME } from '../xds/resource-types.js';
import type { GatewayRole } from '../xds/roles.js';
import type { XdsServer } from '../xds/server.js';
import type { ReconcileState, ServedIngress } from '../status/served-ingress.js';
import type { Reconciler } from './reconciler.js';
import { rejectionsOfIngress, withRejections, withShardMembers, type IngressRejection } from './rejected-objects.js';

export interface FerryViewSources {
  store: Store;
  cache: XdsCache;
  xds: XdsServer;
  nacks: NackStore;
  reconciler: Reconciler;
  source: { problems(): SourceProblem[] };
  loadBalancers?: LoadBalancerHosts;
}

/** Read-only answers about a running Ferry, for the admin endpoints and through them the CLI. */
export class FerryView {
  private readonly sync: GatewaySyncTracker;
  private readonly loadBalancers: LoadBalancerHosts;

  constructor(private readonly sources: FerryViewSources) {
    const { cache, xds, reconciler } = sources;
    this.loadBalancers = sources.loadBalancers ?? DEFAULT_LOAD_BALANCER_HOSTS;
    this.sync = new GatewaySyncTracker({
      streams: () => xds.streams(),
      currentVersion: (roles, typeUrl) => cache.version(roles, typeUrl),
      hasResources: (roles, typeUrl) => cache.hasAny(roles, typeUrl),
      currentPass: () => reconciler.current().pass,
      onStreamsChanged: (listener) => xds.onStreamsChanged(listener),
      onPass: (listener) => reconciler.onPass(listener),
    });
  }

  configDump(query: ConfigDumpQuery): Partial<Record<GatewayRole, EnvoyConfigDump>> {
    return buildConfigDump(this.sources.cache, query);
  }

  status(): StatusReport {
    const { nacks, source, reconciler } = this.sources;
    return {
      pass: reconciler.current().pass,
      gateways: this.gateways(),
      nacks: nacks.list().map((nack) => ({
        nodeId: nack.nodeId, type: SHORT_NAME[nack.typeUrl], version: nack.version, resources: [...nack.resourceNames], message: nack.message, time: nack.time.toISOString(),
      })),
      problems: source.problems().map((problem) => ({ severity: problem.severity, message: formatValidationError(problem) })),
    };
  }

  /** Whether gateways are connected and all took the current configuration: status() without the lists, for polling. */
  synced(): { pass: number; gateways: number; synced: boolean } {
    const { xds, cache, reconciler } = this.sources;
    // What gateways() says of each stream, without building its rows (this is polled after every change).
    const streams = xds.streams();
    const synced = streams.every((stream) => stream.types.every((type) => typeSyncState(type, cache.version(stream.roles, type.typeUrl)) === 'SYNCED'));
    // A gateway that rejects the content Ferry serves for a resource has not taken it (as `ferry status --wait` says).
    return { pass: reconciler.current().pass, gateways: streams.length, synced: streams.length > 0 && synced && this.rejections().length === 0 };
  }

  private gateways(): GatewayStatus[] {
    const { xds, cache } = this.sources;
    return xds.streams().map((stream) => {
      const types = stream.types.map((type) => {
        const currentVersion = cache.version(stream.roles, type.typeUrl);
        const state = typeSyncState(type, currentVersion);
        return {
          type: SHORT_NAME[type.typeUrl], api: API_NAME[type.typeUrl], sentVersion: type.sentVersion, ackedVersion: type.ackedVersion, currentVersion, state,
          ...(type.lastNack !== undefined ? { error: type.lastNack } : {}),
        };
      });
      return {
        nodeId: stream.nodeId, nodeCluster: stream.nodeCluster, roles: [...stream.roles], address: stream.peer, protocol: stream.protocol,
        connectedAt: stream.connectedAt.toISOString(), synced: types.every((t) => t.state === 'SYNCED'), types,
      };
    });
  }

  /**
   * The status Ferry would write to a KIngress now (`sync`: each role's gateway sync, when already known;
   * `rejections`: what gateways reject now, when already read).
   */
  ingressStatus(served: ServedIngress, sync: (role: GatewayRole) => RoleSync = (role) => this.sync.role(role), programmed = false,
    rejections: readonly IngressRejection[] = this.rejections()): IngressStatus {
    const status = ingressStatus(served, sync, this.loadBalancers, programmed);
    const own = served.conflict ? [] : rejectionsOfIngress(served.ingress, rejections);
    return own.length > 0 ? withRejections(status, own) : status;
  }

  /** The resources that connected gateways reject in the content Ferry serves now. */
  rejections(): IngressRejection[] {
    return withShardMembers(currentRejections(this.sources.xds.streams(), this.sources.cache), this.sources.cache);
  }

  objects(kind: string): ObjectRow[] {
    const state = this.sources.reconciler.current();
    // Each role's sync once for all rows (it looks at every gateway stream).
    const roles = new Map<GatewayRole, RoleSync>();
    const sync = (role: GatewayRole): RoleSync => roles.get(role) ?? roles.set(role, this.sync.role(role)).get(role)!;
    const rejections = this.rejections();
    const status = (served: ServedIngress): IngressStatus => this.ingressStatus(served, sync, false, rejections);
    if (kind === 'ingresses') return [...state.ingresses.values()].map((served) => this.ingressRow(served, status));
    if (kind === 'routes') return this.knativeRows(state, ['Route', 'Service'], status);
    if (kind === 'domainmappings') return this.knativeRows(state, ['DomainMapping'], status);
    throw new Error(`unknown kind "${kind}": use ingresses, routes or domainmappings`);
  }

  stop(): void {
    this.sync.stop();
  }

  private ingressRow(served: ServedIngress, statusOf: (served: ServedIngress) => IngressStatus): ObjectRow {
    const status = statusOf(served);
    const conditions = status.conditions ?? [];
    const rules = served.ingress.spec.rules ?? [];
    const hosts = rules.flatMap((rule) => rule.hosts ?? []);
    const host = urlHost(rules);
    return {
      kind: 'Ingress', namespace: served.ingress.metadata.namespace ?? '', name: served.ingress.metadata.name,
      url: host ? `${served.ingress.spec.tls?.some((tls) => tls.hosts?.includes(host)) ? 'https' : 'http'}://${host}` : '',
      ...readyOf(conditions), conditions,
      origin: served.origin, hosts, status, warnings: served.warnings,
      ...(served.conflict ? { conflict: served.conflict } : {}),
    };
  }

  private knativeRows(state: ReconcileState, kinds: readonly string[], statusOf: (served: ServedIngress) => IngressStatus): ObjectRow[] {
    const byOrigin = new Map<string, ServedIngress>();
    for (const served of state.ingresses.values()) if (!byOrigin.has(referenceKey(served.origin))) byOrigin.set(referenceKey(served.origin), served);
    return state.statuses.filter((status) => kinds.includes(status.object.kind)).map((status) => {
      const ingress = byOrigin.get(referenceKey(status.object));
      const conditions = knativeObjectConditions(status, ingress && { served: ingress, status: statusOf(ingress) });
      return {
        kind: status.object.kind, namespace: status.object.namespace, name: status.object.name, url: status.url ?? '',
        ...readyOf(conditions), conditions,
        ...(status.address ? { address: status.address } : {}),
        ...(status.traffic ? { traffic: status.traffic } : {}),
        ...(ingress ? { ingress: `${ingress.ingress.metadata.namespace}/${ingress.ingress.metadata.name}` } : {}),
      };
    });
  }
}

/** The host a person would use: the first external one, else the fully qualified cluster-local one (as kn shows). */
function urlHost(rules: NonNullable<KIngress['spec']['rules']>): string | undefined {
  const external = rules.find(isExternalRule)?.hosts?.[0];
  if (external) return external;
  const local = rules.flatMap((rule) => rule.hosts ?? []);
  return local.find((host) => host.endsWith('.svc.cluster.local')) ?? local[0];
}
