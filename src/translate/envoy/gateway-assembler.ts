import { isDeepStrictEqual } from 'node:util';
import { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import { Secret as EnvoySecret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import { encodeResource, type XdsResource } from '../../xds/resource.js';
import { TypeUrl } from '../../xds/resource-types.js';
import type { GatewayRole } from '../../xds/roles.js';
import { VersionAccumulator, formatVersion, resourceDigest, type Digest } from '../../xds/version-digest.js';
import type { Backend } from './backends.js';
import { buildCluster } from './clusters.js';
import type { TranslateContext } from './config.js';
import { resolveHostConflicts, type HostConflict } from './conflicts.js';
import { buildLoadAssignment } from './endpoints.js';
import { buildOptionClusters } from './option-clusters.js';
import type { IngressTranslation } from './ingress-translation.js';
import { buildHttpListener, buildHttpsListener, type HttpsFilterChainSpec } from './listeners.js';
import { listenerName, routeConfigurationName, secretResourceName, type ListenerKind } from './names.js';
import { assembleRouteConfigurationFromFields, encodeVirtualHostsField } from './route-configuration.js';
import { scopedRouteResources, scopesFor } from './scoped-routes.js';
import { shardTableFor, ShardTables } from './sharded-routes.js';
import { buildTlsSecret, type SecretResult } from './secrets.js';
import { buildSystemInternalCaSecret, SYSTEM_INTERNAL_CA, SYSTEM_INTERNAL_CA_RESOURCE } from './system-internal-tls.js';
import type { Secret } from '../../model/kube.js';
import { compactVirtualHosts, type EncodedVirtualHost } from './virtual-host.js';
import { SharedBuilds } from './shared-builds.js';
import { SortedKeys } from './sorted-keys.js';
import { StringSets } from '../../string-sets.js';
import { flatJoin } from '../../model/meta.js';

/** What changed outside the KIngress translations since the previous update. */
export interface GatewayDirty {
  /** 'ns/name' of Services whose Service object or EndpointSlices changed: their clusters and endpoints are rebuilt. */
  services: ReadonlySet<string>;
  /** 'ns/name' of Secrets that changed. */
  secrets: ReadonlySet<string>;
  /** Rebuild everything that reads the context (first update, configuration change). */
  all: boolean;
  /**
   * A batch of a first pass, more KIngresses to come. What gathers every KIngress (the https listener's certificate
   * chains, single route tables) would be partial: it is built and handed over once they are all in, so that a
   * gateway that reconnects while Ferry restarts gets nothing partial, and it is not rebuilt after every batch.
   */
  partial?: boolean;
}

export interface ResourceChanges {
  upserts: XdsResource[];
  removals: string[];
}

export interface GatewayUpdate {
  changes: Record<TypeUrl, ResourceChanges>;
  /** The current conflicts and warnings (complete, not only the new ones). */
  conflicts: HostConflict[];
  warnings: string[];
}

interface RouteTableState {
  /** Single layout: per KIngress, its virtual hosts and their field bytes (the scoped layout reads translations). */
  fields: Map<string, { bytes: Uint8Array; virtualHosts: readonly EncodedVirtualHost[] }>;
  /** Scoped and sharded modes: KIngresses whose table and scopes must be rebuilt. */
  scopedDirty: Set<string>;
  order: SortedKeys;
  accumulator: VersionAccumulator;
  dirty: boolean;
}

const LISTENER_KINDS: readonly ListenerKind[] = ['http', 'https'];

/**
 * The incremental form of buildGatewayResources for one gateway role: it keeps what it built and, per update,
 * rebuilds only what the changed KIngress translations, Services, EndpointSlices and Secrets touch, returning
 * upserts and removals per resource type. Route tables are concatenations of cached virtual host bytes, with a
 * hash maintained from per-KIngress digests, so a change costs a copy of the table, never a re-encode.
 * Its output equals buildGatewayResources' for the same inputs (tested side by side).
 */
export class GatewayAssembler {
  private readonly translations = new Map<string, IngressTranslation>();
  private accepted = new Set<string>();
  private conflicts: HostConflict[] = [];
  private readonly routeTables = new Map<ListenerKind, RouteTableState>(LISTENER_KINDS.map((kind) => [kind, { fields: new Map(), scopedDirty: new Set(), order: new SortedKeys(), accumulator: new VersionAccumulator(), dirty: true }]));
  /** Scoped and sharded modes: each KIngress's table (its own, shared by both roles, or a shard) and the names of its scopes in this role. */
  private readonly scopedByIngress = new Map<string, { table: string; scopes: string[] }>();
  /** Sharded mode: the members of each shard table. */
  private readonly shardTables = new ShardTables();
  /** Per cluster: its backend and how many KIngresses route to it (usedBy says which). */
  private readonly backendUsers = new Map<string, { backend: Backend; users: number }>();
  /** Cluster names by 'ns/name' of their Service, to find what a Service or EndpointSlice change touches. */
  private readonly backendsByService = new StringSets();
  /** Accepted KIngresses with TLS hosts for this role, and whether secrets and listeners need a look. */
  private readonly tlsKeys = new SortedKeys();
  /** Each TLS-bearing KIngress's spec.tls as this role serves it, to tell a TLS change from any other change. */
  private readonly tlsSignatures = new Map<string, string>();
  /** The backends each KIngress routes to in this role: its translation's own array, not a copy. */
  private readonly usedBy = new Map<string, readonly Backend[]>();
  private tlsDirty = true;
  /** The backend each served cluster was built from, to skip rebuilding an unchanged one (`served` has the resource). */
  private readonly clusters = new Map<string, Backend>();
  /** Each served load assignment: true when it falls back to the activator (no ready endpoint of its own). */
  private readonly endpoints = new Map<string, boolean>();
  private readonly secrets = new Map<string, { resource?: XdsResource; warning?: string }>();
  /** The secrets' warnings, gathered when secrets are refreshed rather than from every secret at each update. */
  private secretWarnings: string[] = [];
  private listenerSignature = '';
  private gatewayOptions: TranslateContext['config']['gateway'] | undefined;
  private listeners: XdsResource[] = [];
  /** The clusters the gateway options name, and the options they were built from. */
  private optionClusters = new Set<string>();
  private optionClustersFor: TranslateContext['config'] | undefined;
  private readonly served = new Map<TypeUrl, Map<string, XdsResource>>(Object.values(TypeUrl).map((typeUrl) => [typeUrl, new Map()]));

  private routeTableLayout: TranslateContext['config']['routeTables'] = 'single';
  /** KIngresses per host, and how many hosts more than one KIngress claims: with none, nobody conflicts. */
  private readonly claimants = new StringSets();
  private contestedHosts = 0;

  constructor(readonly role: GatewayRole) {}

  /** `shared` carries what another role built in the same pass (clusters, load assignments, shared tables). */
  update(changed: readonly IngressTranslation[], removed: readonly string[], dirty: GatewayDirty, ctx: TranslateContext, shared = new SharedBuilds()): GatewayUpdate {
    this.routeTableLayout = ctx.config.routeTables;
    const touched = new Set<string>();
    let hostsChanged = false;
    for (const key of removed) {
      const previous = this.translations.get(key);
      if (!previous) continue;
      this.claim(key, previous.hosts, []);
      this.translations.delete(key);
      touched.add(key);
      hostsChanged = true;
    }
    for (const translation of changed) {
      // Hosts and age decide conflicts; the previous translation says what they were (no signature kept per KIngress).
      const previous = this.translations.get(translation.key);
      if (!previous || !sameClaim(previous, translation)) {
        hostsChanged = true;
        this.claim(translation.key, previous?.hosts ?? [], translation.hosts);
      }
      this.translations.set(translation.key, translation);
      touched.add(translation.key);
    }
    if (dirty.all || (hostsChanged && (this.contestedHosts > 0 || this.conflicts.length > 0))) this.resolveConflicts(touched);
    else if (hostsChanged) {
      // No host has two claimants: every KIngress is served, only the changed ones enter or leave.
      for (const key of removed) this.accepted.delete(key);
      for (const translation of changed) this.accepted.add(translation.key);
    }

    compactVirtualHosts(() => this.keptVirtualHosts());
    const dirtyBackends = new Set<string>();
    for (const key of touched) this.refreshIngress(key, dirtyBackends);

    const sameBackends = new Set<string>();
    return {
      changes: {
        [TypeUrl.Cluster]: this.refreshClusters(dirtyBackends, dirty, ctx, sameBackends, shared),
        [TypeUrl.Endpoint]: this.refreshEndpoints(dirtyBackends, dirty, ctx, sameBackends, shared),
        [TypeUrl.Secret]: this.refreshSecrets(dirty, ctx),
        [TypeUrl.Listener]: this.refreshListeners(dirty, ctx),
        ...this.refreshRouteTables(ctx, shared, dirty.partial === true),
      } as Record<TypeUrl, ResourceChanges>,
      conflicts: this.conflicts,
      warnings: this.secretWarnings,
    };
  }

  /** Every virtual host of every translation held (they are shared by the roles' assemblers). */
  private *keptVirtualHosts(): Iterable<EncodedVirtualHost> {
    for (const translation of this.translations.values()) {
      for (const part of Object.values(translation.roles)) yield* [...part.httpVirtualHosts, ...part.httpsVirtualHosts, ...part.sharedVirtualHosts];
      if (translation.sharedTable) yield* translation.sharedTable;
    }
  }

  private claim(key: string, before: readonly string[], after: readonly string[]): void {
    for (const host of before) {
      if (this.claimants.delete(host, key) && this.claimants.size(host) === 1) this.contestedHosts -= 1;
    }
    for (const host of after) {
      if (this.claimants.add(host, key) && this.claimants.size(host) === 2) this.contestedHosts += 1;
    }
  }

  /** Conflicts change only when hosts or ages change; every KIngress whose acceptance flipped is touched. */
  private resolveConflicts(touched: Set<string>): void {
    const { accepted, conflicts } = resolveHostConflicts([...this.translations.values()]);
    const next = new Set(accepted.map((t) => t.key));
    for (const key of this.accepted) if (!next.has(key)) touched.add(key);
    for (const key of next) if (!this.accepted.has(key)) touched.add(key);
    this.accepted = next;
    this.conflicts = conflicts;
  }

  /** Brings the route table fields and backend references of one KIngress in line with its translation. */
  private refreshIngress(key: string, dirtyBackends: Set<string>): void {
    const translation = this.accepted.has(key) ? this.translations.get(key) : undefined;
    const part = translation?.roles[this.role];
    for (const kind of LISTENER_KINDS) {
      const table = this.routeTables.get(kind)!;
      if (this.routeTableLayout !== 'single') {
        // Scoped and shard tables are built from the translation itself: fields, order and hash serve the single table only.
        table.scopedDirty.add(key);
        continue;
      }
      const previous = table.fields.get(key);
      if (previous) table.accumulator.remove(fieldDigest(key, previous.virtualHosts));
      table.fields.delete(key);
      table.order.delete(key);
      const virtualHosts = part ? (kind === 'http' ? part.httpVirtualHosts : part.httpsVirtualHosts) : [];
      if (virtualHosts.length > 0) {
        table.fields.set(key, { bytes: encodeVirtualHostsField(virtualHosts), virtualHosts });
        table.order.add(key);
        table.accumulator.add(fieldDigest(key, virtualHosts));
      }
      if (previous || virtualHosts.length > 0) {
        table.dirty = true;
        table.scopedDirty.add(key);
      }
    }
    const tlsSignature = part && part.tls.length > 0 ? JSON.stringify(part.tls) : undefined;
    if (tlsSignature !== this.tlsSignatures.get(key)) {
      this.tlsDirty = true;
      if (tlsSignature === undefined) {
        this.tlsKeys.delete(key);
        this.tlsSignatures.delete(key);
      } else {
        this.tlsKeys.add(key);
        this.tlsSignatures.set(key, tlsSignature);
      }
    }

    const before = this.usedBy.get(key);
    for (const { clusterName } of before ?? []) {
      if (part && routesTo(part.backends, clusterName)) continue;
      const entry = this.backendUsers.get(clusterName);
      if (entry) entry.users -= 1;
      dirtyBackends.add(clusterName);
    }
    if (part && part.backends.length > 0) this.usedBy.set(key, part.backends);
    else this.usedBy.delete(key);
    for (const backend of part?.backends ?? []) {
      const { clusterName } = backend;
      const entry = this.backendUsers.get(clusterName);
      if (entry) {
        if (!before || !routesTo(before, clusterName)) entry.users += 1;
        entry.backend = backend;
      } else {
        this.backendUsers.set(clusterName, { backend, users: 1 });
        this.backendsByService.add(serviceKey(backend), clusterName);
      }
      dirtyBackends.add(clusterName);
    }
  }

  /** Cluster names whose Service (or its EndpointSlices) changed. */
  private backendsOfServices(services: ReadonlySet<string>): string[] {
    return [...services].flatMap((service) => [...this.backendsByService.members(service)]);
  }

  /** Adds to `sameBackends` the clusters whose backend is what they were built from. */
  private refreshClusters(dirtyBackends: ReadonlySet<string>, dirty: GatewayDirty, ctx: TranslateContext, sameBackends: Set<string>, shared: SharedBuilds): ResourceChanges {
    const names = dirty.all ? new Set([...this.clusters.keys(), ...this.backendUsers.keys()]) : new Set(dirtyBackends);
    if (!dirty.all) for (const name of this.backendsOfServices(dirty.services)) names.add(name);
    const wanted = new Map<string, XdsResource | undefined>();
    for (const name of names) {
      const entry = this.liveBackend(name);
      if (!entry) {
        this.clusters.delete(name);
        wanted.set(name, undefined);
        continue;
      }
      const cached = this.clusters.get(name);
      if (cached && isDeepStrictEqual(cached, entry) && !dirty.all) {
        sameBackends.add(name);
        continue;
      }
      const resource = shared.once(TypeUrl.Cluster, name, entry, () => encodeResource(TypeUrl.Cluster, name, Cluster, buildCluster(entry, ctx.config)));
      this.clusters.set(name, entry);
      wanted.set(name, resource);
    }
    this.refreshOptionClusters(ctx, wanted);
    return this.diff(TypeUrl.Cluster, wanted);
  }

  /** The gateway options' clusters, rebuilt when the configuration changes (diff sends only what differs). */
  private refreshOptionClusters(ctx: TranslateContext, wanted: Map<string, XdsResource | undefined>): void {
    if (ctx.config === this.optionClustersFor) return;
    this.optionClustersFor = ctx.config;
    const built = buildOptionClusters(ctx.config);
    for (const name of this.optionClusters) wanted.set(name, undefined);
    for (const cluster of built) wanted.set(cluster.name, encodeResource(TypeUrl.Cluster, cluster.name, Cluster, cluster));
    this.optionClusters = new Set(built.map((cluster) => cluster.name));
  }

  /**
   * A load assignment reads its backend, its Service's EndpointSlices and the activator's: one whose backend is the
   * same (`sameBackends`) and whose Service did not change is as served, though a KIngress routing to it changed.
   */
  private refreshEndpoints(dirtyBackends: ReadonlySet<string>, dirty: GatewayDirty, ctx: TranslateContext, sameBackends: ReadonlySet<string>, shared: SharedBuilds): ResourceChanges {
    const activator = ctx.config.activator ? `${ctx.config.activator.namespace}/${ctx.config.activator.name}` : undefined;
    const activatorChanged = activator !== undefined && dirty.services.has(activator);
    const names = dirty.all ? new Set([...this.endpoints.keys(), ...this.backendUsers.keys()]) : new Set<string>();
    if (!dirty.all) {
      for (const name of dirtyBackends) if (!sameBackends.has(name) || !this.endpoints.has(name)) names.add(name);
      for (const name of this.backendsOfServices(dirty.services)) names.add(name);
      if (activatorChanged) for (const [name, fallback] of this.endpoints) if (fallback) names.add(name);
    }
    const wanted = new Map<string, XdsResource | undefined>();
    for (const name of names) {
      const backend = this.liveBackend(name);
      if (!backend || backend.externalName) {
        this.endpoints.delete(name);
        wanted.set(name, undefined);
        continue;
      }
      const { resource, fallback } = shared.once(TypeUrl.Endpoint, name, backend, () => {
        const assignment = buildLoadAssignment(backend, ctx);
        return { resource: encodeResource(TypeUrl.Endpoint, name, ClusterLoadAssignment, assignment), fallback: !assignment.endpoints.some((locality) => locality.priority === 0) };
      });
      this.endpoints.set(name, fallback);
      wanted.set(name, resource);
    }
    return this.diff(TypeUrl.Endpoint, wanted);
  }

  private refreshSecrets(dirty: GatewayDirty, ctx: TranslateContext): ResourceChanges {
    if (!this.tlsDirty && !dirty.all && dirty.secrets.size === 0) return { upserts: [], removals: [] };
    this.tlsDirty = true;
    const used = new Map<string, { namespace: string; name: string; build: (secret: Secret | undefined) => SecretResult }>();
    for (const { namespace, name, usedBy } of this.tlsReferences(ctx)) {
      const resourceName = secretResourceName(namespace, name);
      if (!used.has(resourceName)) used.set(resourceName, { namespace, name, build: (secret) => buildTlsSecret(resourceName, secret, usedBy) });
    }
    if (ctx.config.systemInternalTls) used.set(SYSTEM_INTERNAL_CA_RESOURCE, { ...SYSTEM_INTERNAL_CA, build: buildSystemInternalCaSecret });
    const wanted = new Map<string, XdsResource | undefined>();
    for (const resourceName of this.secrets.keys()) {
      if (!used.has(resourceName)) {
        this.secrets.delete(resourceName);
        wanted.set(resourceName, undefined);
      }
    }
    for (const [resourceName, ref] of used) {
      if (this.secrets.has(resourceName) && !dirty.all && !dirty.secrets.has(`${ref.namespace}/${ref.name}`)) continue;
      const built = ref.build(ctx.secret(ref.namespace, ref.name));
      const resource = built.secret ? encodeResource(TypeUrl.Secret, resourceName, EnvoySecret, built.secret) : undefined;
      this.secrets.set(resourceName, built.warning ? { warning: built.warning } : { resource });
      wanted.set(resourceName, resource);
    }
    this.secretWarnings = [...this.secrets.values()].flatMap((s) => (s.warning ? [s.warning] : []));
    return this.diff(TypeUrl.Secret, wanted);
  }

  private refreshListeners(dirty: GatewayDirty, ctx: TranslateContext): ResourceChanges {
    // New gateway options (config-ferry) are a new object: the listeners are built again with them.
    const optionsChanged = ctx.config.gateway !== this.gatewayOptions;
    this.gatewayOptions = ctx.config.gateway;
    if (!this.tlsDirty && !dirty.all && !optionsChanged) return { upserts: [], removals: [] };
    const { config } = ctx;
    const httpName = listenerName(this.role, 'http');
    const httpsName = listenerName(this.role, 'https');
    const ports = config.ports[this.role];
    const httpListener = () => encodeResource(TypeUrl.Listener, httpName, Listener, buildHttpListener(this.role, httpName, ports.http, routeConfigurationName(this.role, 'http'), config));
    if (dirty.partial) {
      // The plain-HTTP listener names no KIngress: it comes with the first batch. tlsDirty stays set for the rest.
      if (this.listeners.length > 0) return { upserts: [], removals: [] };
      this.listeners = [httpListener()];
      return this.diff(TypeUrl.Listener, new Map([[httpName, this.listeners[0]]]));
    }
    this.tlsDirty = false;
    const chains: HttpsFilterChainSpec[] = [];
    for (const ref of this.tlsReferences(ctx)) {
      const resourceName = secretResourceName(ref.namespace, ref.name);
      if (this.secrets.get(resourceName)?.resource) chains.push({ name: ref.chainName, serverNames: ref.serverNames, secretName: resourceName });
    }
    const signature = JSON.stringify([chains, ports, config.bindAddress, config.gateway]);
    if (signature === this.listenerSignature) return { upserts: [], removals: [] };
    this.listenerSignature = signature;
    this.listeners = [httpListener()];
    if (chains.length > 0) {
      this.listeners.push(encodeResource(TypeUrl.Listener, httpsName, Listener, buildHttpsListener(this.role, httpsName, ports.https, routeConfigurationName(this.role, 'https'), chains, config)));
    }
    // The single https table appears or goes with the listener; scoped tables are shared by both listeners.
    this.routeTables.get('https')!.dirty = true;
    const wanted = new Map<string, XdsResource | undefined>([[httpName, this.listeners[0]], [httpsName, this.listeners[1]]]);
    return this.diff(TypeUrl.Listener, wanted);
  }

  private refreshRouteTables(ctx: TranslateContext, shared: SharedBuilds, partial: boolean): Record<typeof TypeUrl.Route | typeof TypeUrl.ScopedRoute, ResourceChanges> {
    if (ctx.config.routeTables === 'single') {
      for (const table of this.routeTables.values()) table.scopedDirty.clear();
      // Each table gathers every KIngress of its listener: built once a first pass has them all (tables stay dirty).
      return { [TypeUrl.ScopedRoute]: { upserts: [], removals: [] }, [TypeUrl.Route]: partial ? { upserts: [], removals: [] } : this.refreshRoutes() };
    }
    return this.refreshScopedRoutes(shared, ctx.config.routeTables === 'sharded' ? ctx.config.routeTableShards : undefined);
  }

  /**
   * Scoped and sharded modes: the route table and scopes of each changed KIngress, shared by the role's listeners.
   * `shards` (sharded mode): a KIngress's virtual hosts join a shard table, assembled again from its members.
   */
  private refreshScopedRoutes(shared: SharedBuilds, shards: number | undefined): Record<typeof TypeUrl.Route | typeof TypeUrl.ScopedRoute, ResourceChanges> {
    const routes = new Map<string, XdsResource | undefined>();
    const scopes = new Map<string, XdsResource | undefined>();
    const dirtyKeys = new Set<string>();
    for (const table of this.routeTables.values()) {
      for (const key of table.scopedDirty) dirtyKeys.add(key);
      table.scopedDirty.clear();
    }
    // Removals first, then additions: a host that moved between KIngresses keeps its (rebuilt) scope.
    const previousScopes = new Map<string, { table: string; scopes: readonly string[] }>();
    for (const key of dirtyKeys) {
      const previous = this.scopedByIngress.get(key);
      if (!previous) continue;
      for (const name of previous.scopes) scopes.set(name, undefined);
      previousScopes.set(key, previous);
      if (shards === undefined) routes.set(previous.table, undefined);
      else this.shardTables.leave(previous.table, key);
      this.scopedByIngress.delete(key);
    }
    const servedScopes = this.served.get(TypeUrl.ScopedRoute)!;
    for (const key of dirtyKeys) {
      const translation = this.accepted.has(key) ? this.translations.get(key) : undefined;
      if (!translation) continue;
      // A host the KIngress kept keeps its scope as served (most changes are to routes, not hosts), unless its
      // table changed name or another KIngress of this pass took it over.
      const had = previousScopes.get(key);
      const kept = (name: string, table: string) => (had?.table === table && had.scopes.includes(name) && scopes.get(name) === undefined ? servedScopes.get(name) : undefined);
      let table: string;
      let built: XdsResource[];
      if (shards === undefined) {
        const own = scopedRouteResources(this.role, translation, shared, kept);
        if (!own) continue;
        routes.set(own.routeConfiguration.name, own.routeConfiguration);
        table = own.routeConfiguration.name;
        built = own.scopes;
      } else {
        const shard = shardTableFor(this.role, translation, shards);
        if (!shard) continue;
        this.shardTables.join(shard.name, key, shard.virtualHosts);
        table = shard.name;
        built = scopesFor(this.role, translation, table, kept);
      }
      for (const scope of built) scopes.set(scope.name, scope);
      this.scopedByIngress.set(key, { table, scopes: built.map((scope) => scope.name) });
    }
    if (shards !== undefined) for (const [name, resource] of this.shardTables.changed(shared)) routes.set(name, resource);
    return { [TypeUrl.ScopedRoute]: this.diff(TypeUrl.ScopedRoute, scopes), [TypeUrl.Route]: this.diff(TypeUrl.Route, routes) };
  }

  private refreshRoutes(): ResourceChanges {
    const wanted = new Map<string, XdsResource | undefined>();
    const httpsServed = this.listeners.length > 1;
    for (const kind of LISTENER_KINDS) {
      const table = this.routeTables.get(kind)!;
      if (!table.dirty) continue;
      table.dirty = false;
      const name = routeConfigurationName(this.role, kind);
      if (kind === 'https' && !httpsServed) {
        wanted.set(name, undefined);
        continue;
      }
      const keys = table.order.values();
      const hash = formatVersion([table.accumulator.value, resourceDigest(name, '')]).slice(0, 16);
      wanted.set(name, assembleRouteConfigurationFromFields(name, keys.map((key) => table.fields.get(key)!.bytes), hash));
    }
    return this.diff(TypeUrl.Route, wanted);
  }

  /** The TLS references of accepted KIngresses in key order, then the default certificate. */
  private tlsReferences(ctx: TranslateContext): Array<{ namespace: string; name: string; usedBy: string; chainName: string; serverNames: string[] }> {
    const refs = [];
    for (const key of this.tlsKeys.values()) {
      for (const tls of this.translations.get(key)!.roles[this.role].tls) {
        refs.push({ namespace: tls.secret.namespace, name: tls.secret.name, usedBy: tls.name, chainName: tls.name, serverNames: tls.serverNames });
      }
    }
    const fallback = ctx.config.defaultCertificate;
    if (fallback) refs.push({ namespace: fallback.namespace, name: fallback.name, usedBy: 'config defaultCertificate', chainName: 'default-certificate', serverNames: [] });
    return refs;
  }

  private liveBackend(name: string): Backend | undefined {
    const entry = this.backendUsers.get(name);
    if (entry && entry.users === 0) {
      this.backendUsers.delete(name);
      this.backendsByService.delete(serviceKey(entry.backend), name);
    }
    return entry && entry.users > 0 ? entry.backend : undefined;
  }

  /** Turns "name → resource (or undefined: gone)" into upserts and removals against what is served. */
  private diff(typeUrl: TypeUrl, wanted: ReadonlyMap<string, XdsResource | undefined>): ResourceChanges {
    const served = this.served.get(typeUrl)!;
    const changes: ResourceChanges = { upserts: [], removals: [] };
    for (const [name, resource] of wanted) {
      const current = served.get(name);
      if (resource === undefined) {
        if (current) {
          served.delete(name);
          changes.removals.push(name);
        }
      } else if (!current || current.hash !== resource.hash) {
        served.set(name, resource);
        changes.upserts.push(resource);
      }
    }
    return changes;
  }

  /** Everything served now, per type (for tests and dumps). */
  resources(typeUrl: TypeUrl): XdsResource[] {
    return [...this.served.get(typeUrl)!.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function sameClaim(a: IngressTranslation, b: IngressTranslation): boolean {
  return a.creationTimestamp === b.creationTimestamp && a.hosts.length === b.hosts.length && a.hosts.every((host, i) => host === b.hosts[i]);
}

/** What a KIngress's field adds to a route table's hash: recomputed on removal rather than stored. */
function fieldDigest(key: string, virtualHosts: readonly EncodedVirtualHost[]): Digest {
  return resourceDigest(key, virtualHosts.map((v) => v.hash).join(','));
}

function routesTo(backends: readonly Backend[], clusterName: string): boolean {
  return backends.some((backend) => backend.clusterName === clusterName);
}

function serviceKey(backend: Backend): string {
  return flatJoin('/', backend.namespace, backend.serviceName);
}
