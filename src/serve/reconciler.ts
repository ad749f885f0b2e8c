import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';
import { isFerryClass, type KIngress } from '../model/ingress.js';
import { SERVICE_NAME_LABEL, type Service } from '../model/kube.js';
import type { GatewayOptions } from '../model/gateway-options.js';
import type { NetworkConfig } from '../model/config.js';
import { unhonouredNetworkConditions, unhonouredNetworkWarnings, type UnhonouredNetworkOptions } from '../status/config-network-conditions.js';
import type { ObjectKind } from '../model/kinds.js';
import { objectKey } from '../model/meta.js';
import type { ObjectChange } from '../store/changes.js';
import type { Store } from '../store/store.js';
import { GatewayAssembler, type GatewayDirty } from '../translate/envoy/gateway-assembler.js';
import { SharedBuilds } from '../translate/envoy/shared-builds.js';
import { translateIngress, type HostConflict, type IngressTranslation, type TranslateConfig, type TranslateContext } from '../translate/envoy/index.js';
import { KnativeMemo, knativeInputsFromStore, sameObject, translateKnative, type TranslatedIngress } from '../translate/knative/index.js';
import type { XdsCache } from '../xds/cache.js';
import { GATEWAY_ROLES, type GatewayRole } from '../xds/roles.js';
import { StringSets } from '../string-sets.js';
import { CoalescingScheduler } from './coalescing-scheduler.js';
import type { ReconcileState } from '../status/served-ingress.js';

export type { ReconcileState, ServedIngress } from '../status/served-ingress.js';

export interface ReconcilerOptions {
  store: Store;
  cache: XdsCache;
  translateConfig: TranslateConfig;
  logger: Logger;
  metrics?: FerryMetrics;
  /** Quiet time that gathers a burst of changes into one translation. */
  holdOffMs?: number;
  /** Longest a change waits under a continuous burst. */
  maxDelayMs?: number;
}

/** Kinds whose change re-runs Knative's Service/Route/DomainMapping translation. */
const KNATIVE_KINDS: ReadonlySet<ObjectKind> = new Set(['KnativeService', 'Route', 'DomainMapping', 'ClusterDomainClaim', 'ConfigMap']);

/**
 * Keeps the xDS cache equal to what the Store's objects mean: Knative objects → KIngresses → Envoy resources per
 * gateway role. Work per pass follows what changed: store changes are gathered between passes (bursts coalesced),
 * only the KIngresses that changed, or whose Services changed, are translated again, and each role's
 * GatewayAssembler rebuilds only the resources they touch. Knative's own translation runs again only when a
 * Knative object or config changed.
 */
export class Reconciler {
  private readonly scheduler: CoalescingScheduler;
  private readonly logger: Logger;
  private readonly assemblers = new Map<GatewayRole, GatewayAssembler>(GATEWAY_ROLES.map((role) => [role, new GatewayAssembler(role)]));
  /** The KIngresses to serve (ours only), derived from Knative objects or given as such. */
  private readonly ingresses = new Map<string, TranslatedIngress>();
  private readonly translations = new Map<string, IngressTranslation>();
  /** KIngress keys by the 'ns/name' of each Service their translation read. */
  private readonly ingressesByService = new StringSets();
  private placeholders = new Map<string, Service>();
  private readonly knativeMemo = new KnativeMemo();
  private pending: ObjectChange[] = [];
  private full = true;
  /** Translate every KIngress in the next pass (what they read of the configuration changed). */
  private translateAll = false;
  private readonly state: ReconcileState = { pass: 0, ingresses: new Map(), changed: [], removed: [], statuses: [], warnings: [] };
  private conflicted = new Set<string>();
  /** The enabled config-network options Ferry does not honour: the KIngresses' status says which concern them. */
  private unhonoured: UnhonouredNetworkOptions = { clusterLocalDomainTls: false };
  /** config-network changed what every cluster reads (system-internal-tls): the next assembly rebuilds everything. */
  private rebuildGateways = false;
  private unsubscribe: (() => void) | undefined;
  /** False during startInBatches: changes wait for the first pass to finish. */
  private started = true;
  private readonly passListeners = new Set<(state: ReconcileState) => void>();
  private readonly ctx: TranslateContext;

  constructor(private readonly options: ReconcilerOptions) {
    this.logger = options.logger.child({ component: 'reconciler' });
    this.scheduler = new CoalescingScheduler(() => this.reconcile(), options.holdOffMs ?? 2, options.maxDelayMs ?? 100);
    const { store } = options;
    this.ctx = {
      config: options.translateConfig,
      service: (namespace, name) => store.get('Service', `${namespace}/${name}`) ?? this.placeholders.get(`${namespace}/${name}`),
      endpointSlices: (namespace, service) => store.endpointSlicesForService(namespace, service),
      secret: (namespace, name) => store.get('Secret', `${namespace}/${name}`),
    };
  }

  /**
   * New gateway options (config-ferry): the next pass builds the listeners with them. Route tables read only whether
   * external authorization is on (its probe routes and opted-out KIngresses skip it): when that flips, every KIngress
   * is translated again; the tables that change are sent, clusters and endpoints are not rebuilt.
   */
  setGatewayOptions(gateway: GatewayOptions): void {
    if ((gateway.extAuthz === undefined) !== (this.ctx.config.gateway.extAuthz === undefined)) this.translateAll = true;
    this.ctx.config = { ...this.ctx.config, gateway };
  }

  /** Translates what the store holds now, then again after every change. */
  start(): void {
    this.subscribe();
    this.reconcile();
  }

  /**
   * start() for a large store: the first pass hands its resources to the cache (and so to connected gateways) in
   * batches, so that Envoy builds clusters and routes while Ferry still translates. KIngresses whose hosts another
   * KIngress names too come in the last batch: what an earlier batch hands over is final, never a host that a later
   * KIngress wins. What aggregates all KIngresses (the https listeners' certificate chains, single route tables) is
   * handed over once, at the end: a gateway that reconnects while Ferry restarts gets nothing partial. Changes that
   * arrive meanwhile are reconciled after it.
   */
  async startInBatches(batchSize: number): Promise<void> {
    this.subscribe(false);
    const started = process.hrtime.bigint();
    this.full = false;
    this.translateAll = false;
    const pass = this.nextPass();
    const removed = new Set<string>();
    this.refreshKnative(new Set(), removed, new Set());
    const keys = [...this.ingresses.keys()];
    const batches = inBatches(keys, (key) => (this.ingresses.get(key)!.ingress.spec.rules ?? []).flatMap((rule) => rule.hosts ?? []), batchSize);
    let handedOver = 0;
    let reported = Date.now();
    for (const [batch, batchKeys] of batches.entries()) {
      const last = batch === batches.length - 1;
      const changed = await this.translateInSlices(batchKeys, pass);
      this.assemble(changed, [], { services: new Set(), secrets: new Set(), all: batch === 0, partial: !last }, pass);
      handedOver += changed.length;
      // Progress on a large start, once a second at most.
      if (!last && Date.now() - reported >= 1_000) {
        reported = Date.now();
        this.logger.info({ pass, handedOver, of: keys.length }, 'first pass: KIngresses handed to the gateways');
      }
      if (!last) await yieldToEventLoop();
    }
    this.finishPass(pass, started, 0, keys.length, removed.size);
    this.started = true;
    if (this.pending.length > 0) this.scheduler.schedule();
  }

  private subscribe(started = true): void {
    this.started = started;
    this.unsubscribe = this.options.store.onChange((changes) => {
      this.pending.push(...changes);
      if (this.started) this.scheduler.schedule();
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.scheduler.cancel();
  }

  current(): ReconcileState {
    return this.state;
  }

  onPass(listener: (state: ReconcileState) => void): () => void {
    this.passListeners.add(listener);
    return () => this.passListeners.delete(listener);
  }

  /** A new pass number; the KIngresses changed and removed are listed anew. */
  private nextPass(): number {
    this.state.changed = [];
    this.state.removed = [];
    return ++this.state.pass;
  }

  /** One pass over the changes gathered since the last; public so that tests and tools can run it at once. */
  reconcile(): ReconcileState {
    const started = process.hrtime.bigint();
    const changes = this.pending;
    this.pending = [];
    const full = this.full;
    const translateAll = full || this.translateAll;
    this.full = false;
    this.translateAll = false;
    const pass = this.nextPass();

    // Services whose object changed (their KIngresses are translated again), and those whose endpoints changed too.
    const changedServices = new Set<string>();
    const dirtyServices = new Set<string>();
    const dirtySecrets = new Set<string>();
    const dirtyIngresses = new Set<string>();
    let knativeDirty = full;
    for (const change of changes) {
      if (KNATIVE_KINDS.has(change.kind)) knativeDirty = true;
      else if (change.kind === 'KIngress') dirtyIngresses.add(change.key);
      else if (change.kind === 'Secret') dirtySecrets.add(change.key);
      else if (change.kind === 'Service') {
        changedServices.add(change.key);
        // DomainMappings check that their target exists and Routes get placeholder Services unless one exists.
        if (this.options.store.count('DomainMapping') > 0) knativeDirty = true;
      } else if (change.kind === 'EndpointSlice') {
        const slice = change.object ?? change.previous;
        const service = slice?.metadata.labels?.[SERVICE_NAME_LABEL];
        if (service) dirtyServices.add(`${slice!.metadata.namespace}/${service}`);
      }
    }

    const removed = new Set<string>();
    if (knativeDirty) this.refreshKnative(dirtyIngresses, removed, changedServices);
    else this.refreshGivenIngresses(dirtyIngresses, removed);
    for (const service of changedServices) dirtyServices.add(service);
    for (const service of changedServices) for (const key of this.ingressesByService.members(service)) dirtyIngresses.add(key);

    const changed = this.translateKeys(translateAll ? this.ingresses.keys() : dirtyIngresses, pass);
    for (const key of removed) {
      this.indexDependencies(key, undefined);
      this.translations.delete(key);
      this.state.ingresses.delete(key);
      this.state.removed.push(key);
    }
    this.assemble(changed, [...removed], { services: dirtyServices, secrets: dirtySecrets, all: full || this.rebuildGateways }, pass);
    this.rebuildGateways = false;
    return this.finishPass(pass, started, changes.length, changed.length, removed.size);
  }

  /**
   * translateKeys for the first pass, giving the event loop a turn every FIRST_PASS_SLICE_MS: Envoy's requests (an
   * ACK, the EDS subscription that follows a cluster batch) are answered while Ferry translates, instead of after a
   * whole batch (~0.2-0.4 s at 1000 KIngresses), so Envoy is not left waiting. At 10k: cold start 7.45 -> 7.17 s
   * (means of 6 runs each; single runs vary by +-0.4 s).
   */
  private async translateInSlices(keys: readonly string[], pass: number): Promise<IngressTranslation[]> {
    const changed: IngressTranslation[] = [];
    let sliceStart = performance.now();
    for (let i = 0; i < keys.length; i += TRANSLATE_STEP) {
      changed.push(...this.translateKeys(keys.slice(i, i + TRANSLATE_STEP), pass));
      if (performance.now() - sliceStart < FIRST_PASS_SLICE_MS) continue;
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    return changed;
  }

  /** Translates these KIngresses again (those still served) and records them as changed in this pass. */
  private translateKeys(keys: Iterable<string>, pass: number): IngressTranslation[] {
    const changed: IngressTranslation[] = [];
    for (const key of keys) {
      const translated = this.ingresses.get(key);
      if (!translated) continue;
      const translation = translateIngress(translated.ingress, this.ctx);
      this.indexDependencies(key, translation);
      this.translations.set(key, translation);
      changed.push(translation);
      for (const warning of translation.warnings) this.logger.warn({ ingress: key }, warning);
      const networkConditions = unhonouredNetworkConditions(translated.ingress, this.unhonoured);
      this.state.ingresses.set(key, { ...translated, probeHash: translation.probeHash, warnings: translation.warnings, conflict: undefined, changedInPass: pass, ...(networkConditions.length > 0 ? { networkConditions } : {}) });
      this.state.changed.push(key);
    }
    return changed;
  }

  /** Each role's assembler takes the changes (sharing what both build alike); what they change goes to the cache. */
  private assemble(changed: IngressTranslation[], removed: string[], dirty: GatewayDirty, pass: number): void {
    const warnings = new Set<string>();
    let conflicts: HostConflict[] = [];
    const shared = new SharedBuilds();
    for (const [role, assembler] of this.assemblers) {
      const update = assembler.update(changed, removed, dirty, this.ctx, shared);
      for (const warning of update.warnings) warnings.add(warning);
      conflicts = update.conflicts;
      if (this.options.cache.applyAll(role, update.changes)) this.logger.debug({ role, pass }, 'gateway resources changed');
    }
    this.markConflicts(conflicts, pass);
    // Gateway-wide problems (a missing Secret a listener or cluster needs) are logged once, when they appear.
    for (const warning of warnings) if (!this.state.warnings.includes(warning)) this.logger.warn(warning);
    this.state.warnings = [...warnings];
  }

  private finishPass(pass: number, started: bigint, changes: number, translated: number, removed: number): ReconcileState {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics?.translationSeconds.observe(seconds);
    this.logger.info({ pass, changes, translated, removed, ms: Math.round(seconds * 1e5) / 100 }, 'reconciled');
    for (const listener of this.passListeners) listener(this.state);
    return this.state;
  }

  /** Re-runs Knative's translation; KIngresses whose content changed (or that appeared or left) become dirty. */
  private refreshKnative(dirty: Set<string>, removed: Set<string>, dirtyServices: Set<string>): void {
    const inputs = knativeInputsFromStore(this.options.store, { memo: this.knativeMemo });
    const knative = translateKnative(inputs, { localGatewayHost: this.ctx.config.localGateway.host, memo: this.knativeMemo });
    const networkChanged = this.applyNetworkConfig(inputs.config.network);
    this.state.statuses = knative.statuses;
    const next = new Map<string, TranslatedIngress>();
    for (const translated of knative.ingresses) {
      if (isFerryIngress(translated.ingress)) next.set(objectKey(translated.ingress), translated);
    }
    for (const [k, translated] of next) {
      const previous = this.ingresses.get(k);
      if (!previous || (previous.ingress !== translated.ingress && !isDeepStrictEqual(previous.ingress, translated.ingress))) dirty.add(k);
      else if (!sameObject(previous.origin, translated.origin)) dirty.add(k);
      this.ingresses.set(k, translated);
    }
    for (const k of [...this.ingresses.keys()]) {
      if (next.has(k)) continue;
      this.ingresses.delete(k);
      removed.add(k);
    }
    if (networkChanged) for (const k of this.ingresses.keys()) dirty.add(k);
    const placeholders = new Map(knative.placeholderServices.map((service) => [objectKey(service), service]));
    for (const k of new Set([...placeholders.keys(), ...this.placeholders.keys()])) {
      const before = this.placeholders.get(k);
      const after = placeholders.get(k);
      if (before !== after && !isDeepStrictEqual(before, after)) dirtyServices.add(k);
    }
    this.placeholders = placeholders;
  }

  /**
   * config-network's settings for the gateways: http-protocol becomes the httpOption of KIngresses that set none,
   * system-internal-tls turns on TLS to the revisions' TLS port (every cluster is rebuilt), and what Ferry does not
   * honour is logged (at start and when it changes) and goes into the KIngresses' status. True when they changed:
   * every KIngress is translated again.
   */
  private applyNetworkConfig(network: NetworkConfig): boolean {
    const { config } = this.ctx;
    const defaultHttpOption = network.httpProtocol === 'Redirected' ? 'Redirected' : 'Enabled';
    const unhonoured = { clusterLocalDomainTls: network.clusterLocalDomainTls };
    const same = defaultHttpOption === config.defaultHttpOption && network.systemInternalTls === config.systemInternalTls && isDeepStrictEqual(unhonoured, this.unhonoured);
    if (same) return false;
    this.rebuildGateways ||= network.systemInternalTls !== config.systemInternalTls;
    this.ctx.config = { ...config, defaultHttpOption, systemInternalTls: network.systemInternalTls };
    this.unhonoured = unhonoured;
    this.logger.info({ configMap: 'knative-serving/config-network', httpProtocol: network.httpProtocol, systemInternalTls: network.systemInternalTls }, 'config-network gateway settings changed; every KIngress is translated again');
    for (const warning of unhonouredNetworkWarnings(unhonoured)) this.logger.warn({ configMap: 'knative-serving/config-network' }, warning);
    return true;
  }

  /** Only KIngress objects changed: take them as they are, unless a Knative object owns the name. */
  private refreshGivenIngresses(dirty: Set<string>, removed: Set<string>): void {
    for (const k of [...dirty]) {
      const current = this.ingresses.get(k);
      if (current && current.origin.kind !== 'Ingress') {
        dirty.delete(k);
        continue;
      }
      const given = this.options.store.get('KIngress', k);
      if (given && isFerryIngress(given)) {
        this.ingresses.set(k, { ingress: given, origin: { kind: 'Ingress', namespace: given.metadata.namespace ?? '', name: given.metadata.name } });
      } else if (current) {
        this.ingresses.delete(k);
        dirty.delete(k);
        removed.add(k);
      } else dirty.delete(k);
    }
  }

  private indexDependencies(ingressKey: string, translation: IngressTranslation | undefined): void {
    for (const service of this.translations.get(ingressKey)?.dependencies.services ?? []) this.ingressesByService.delete(service, ingressKey);
    for (const service of translation?.dependencies.services ?? []) this.ingressesByService.add(service, ingressKey);
  }

  /** A KIngress that gains or loses a conflict changed what it serves: its readiness starts over. */
  private markConflicts(conflicts: readonly HostConflict[], pass: number): void {
    const next = new Set<string>();
    for (const conflict of conflicts) {
      const served = this.state.ingresses.get(conflict.ingress);
      if (!served) continue;
      next.add(conflict.ingress);
      if (isDeepStrictEqual(served.conflict, conflict)) continue;
      this.state.ingresses.set(conflict.ingress, { ...served, conflict, changedInPass: pass });
      this.state.changed.push(conflict.ingress);
    }
    for (const k of this.conflicted) {
      const served = this.state.ingresses.get(k);
      if (next.has(k) || !served?.conflict) continue;
      this.state.ingresses.set(k, { ...served, conflict: undefined, changedInPass: pass });
      this.state.changed.push(k);
    }
    this.conflicted = next;
  }
}

/** The first pass gives the event loop a turn after at most about this much translation. */
const FIRST_PASS_SLICE_MS = 10;
/** KIngresses translated between two looks at the clock. */
const TRANSLATE_STEP = 25;

/**
 * Two turns of the event loop. A stream's flush is a setImmediate of the first turn, and Node's HTTP/2 session sends
 * what it wrote from an immediate of its own (Http2Session::MaybeScheduleWrite), which runs in the next turn: with one
 * turn, a response could wait behind the next slice of translation.
 */
async function yieldToEventLoop(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Batches of at most `size` KIngresses whose hosts (as their specs name them) no other KIngress names, then one
 * batch of all the others (any size): their conflicts are resolved among all claimants at once. Never empty.
 */
function inBatches(keys: readonly string[], hostsOf: (key: string) => readonly string[], size: number): string[][] {
  const hosts = new Map(keys.map((key) => [key, new Set(hostsOf(key))]));
  const claims = new Map<string, number>();
  for (const named of hosts.values()) for (const host of named) claims.set(host, (claims.get(host) ?? 0) + 1);
  const free: string[] = [];
  const contested: string[] = [];
  for (const [key, named] of hosts) ([...named].some((host) => claims.get(host)! > 1) ? contested : free).push(key);
  const batches: string[][] = [];
  for (let i = 0; i < free.length; i += size) batches.push(free.slice(i, i + size));
  if (contested.length > 0 || batches.length === 0) batches.push(contested);
  return batches;
}

/** A KIngress of another class is never touched (the kube source lets only annotated ones in). */
function isFerryIngress(ingress: KIngress): boolean {
  return isFerryClass(ingress.metadata, true);
}
