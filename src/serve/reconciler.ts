import { LRUCache } from 'lru-cache';
import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';
import { FERRY_INGRESS_CLASS, INGRESS_CLASS_ANNOTATION, type KIngress } from '../model/ingress.js';
import type { Store } from '../store/store.js';
import { buildGatewayResources, translateIngress, type HostConflict, type IngressTranslation, type TranslateConfig, type TranslateContext } from '../translate/envoy/index.js';
import { knativeInputsFromStore, translateKnative, type KnativeStatus, type TranslatedIngress } from '../translate/knative/index.js';
import type { XdsCache } from '../xds/cache.js';
import { TypeUrl } from '../xds/resource-types.js';
import { GATEWAY_ROLES } from '../xds/roles.js';
import { CoalescingScheduler } from './coalescing-scheduler.js';

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

/** One KIngress as Ferry serves it, with where it came from and what translation said of it. */
export interface ServedIngress extends TranslatedIngress {
  probeHash: string;
  warnings: string[];
  conflict: HostConflict | undefined;
  /** The reconcile pass in which this KIngress last changed: it is Ready once the gateways took that pass. */
  changedInPass: number;
}

export interface ReconcileState {
  pass: number;
  ingresses: Map<string, ServedIngress>;
  statuses: KnativeStatus[];
  warnings: string[];
}

interface CachedTranslation {
  fingerprint: string;
  translation: IngressTranslation;
}

/**
 * Keeps the xDS cache equal to what the Store's objects mean: Knative objects → KIngresses → Envoy resources
 * per gateway role. Bursts of store changes are coalesced; each KIngress is translated again only when it, or
 * a Service it uses, changed (LRU by fingerprint); resources whose bytes did not change cost the cache nothing.
 */
export class Reconciler {
  private readonly translations: LRUCache<string, CachedTranslation>;
  private readonly scheduler: CoalescingScheduler;
  private readonly logger: Logger;
  private state: ReconcileState = { pass: 0, ingresses: new Map(), statuses: [], warnings: [] };
  private unsubscribe: (() => void) | undefined;
  private readonly passListeners = new Set<(state: ReconcileState) => void>();

  constructor(private readonly options: ReconcilerOptions) {
    this.logger = options.logger.child({ component: 'reconciler' });
    this.translations = new LRUCache({ max: 100_000 });
    this.scheduler = new CoalescingScheduler(() => this.reconcile(), options.holdOffMs ?? 5, options.maxDelayMs ?? 100);
  }

  /** Translates what the store holds now, then again after every change. */
  start(): void {
    this.unsubscribe = this.options.store.onChange(() => this.scheduler.schedule());
    this.reconcile();
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

  /** One full pass; public so that tests and start-up can run it without waiting for the hold-off. */
  reconcile(): ReconcileState {
    const started = process.hrtime.bigint();
    const { store, cache, translateConfig } = this.options;
    const pass = this.state.pass + 1;
    const knative = translateKnative(knativeInputsFromStore(store), { localGatewayHost: translateConfig.localGateway.host });
    const ours = knative.ingresses.filter(({ ingress }) => isFerryIngress(ingress));
    const placeholders = new Map(knative.placeholderServices.map((service) => [`${service.metadata.namespace}/${service.metadata.name}`, service]));
    const ctx: TranslateContext = {
      config: translateConfig,
      service: (namespace, name) => store.get('Service', `${namespace}/${name}`) ?? placeholders.get(`${namespace}/${name}`),
      endpointSlices: (namespace, service) => store.endpointSlicesForService(namespace, service),
      secret: (namespace, name) => store.get('Secret', `${namespace}/${name}`),
    };

    const translations: IngressTranslation[] = [];
    const previous = this.state.ingresses;
    const ingresses = new Map<string, ServedIngress>();
    for (const translated of ours) {
      const { translation, changed } = this.translate(translated.ingress, ctx);
      translations.push(translation);
      const before = previous.get(translation.key);
      ingresses.set(translation.key, {
        ...translated,
        probeHash: translation.probeHash,
        warnings: translation.warnings,
        conflict: undefined,
        changedInPass: changed || !before ? pass : before.changedInPass,
      });
    }

    const warnings: string[] = [];
    for (const role of GATEWAY_ROLES) {
      const resources = buildGatewayResources(role, translations, ctx);
      warnings.push(...resources.warnings);
      for (const conflict of resources.conflicts) {
        const served = ingresses.get(conflict.ingress);
        if (served) served.conflict = conflict;
      }
      const changed = cache.setAll(role, {
        [TypeUrl.Cluster]: resources.clusters,
        [TypeUrl.Endpoint]: resources.endpoints,
        [TypeUrl.Secret]: resources.secrets,
        [TypeUrl.Listener]: resources.listeners,
        [TypeUrl.Route]: resources.routes,
      });
      if (changed) this.logger.debug({ role, pass }, 'gateway resources changed');
    }
    this.state = { pass, ingresses, statuses: knative.statuses, warnings: [...new Set(warnings)] };
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics?.translationSeconds.observe(seconds);
    this.logger.debug({ pass, ingresses: ingresses.size, ms: Math.round(seconds * 1000) }, 'reconciled');
    for (const listener of this.passListeners) listener(this.state);
    return this.state;
  }

  private translate(ingress: KIngress, ctx: TranslateContext): { translation: IngressTranslation; changed: boolean } {
    const key = `${ingress.metadata.namespace}/${ingress.metadata.name}`;
    const fingerprint = this.fingerprint(ingress, ctx);
    const cached = this.translations.get(key);
    if (cached && cached.fingerprint === fingerprint) return { translation: cached.translation, changed: false };
    const translation = translateIngress(ingress, ctx);
    this.translations.set(key, { fingerprint, translation });
    for (const warning of translation.warnings) this.logger.warn({ ingress: key }, warning);
    return { translation, changed: true };
  }

  /** What a translation depends on: the KIngress itself and the Services its splits name. */
  private fingerprint(ingress: KIngress, ctx: TranslateContext): string {
    const services: unknown[] = [];
    for (const rule of ingress.spec.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        for (const split of path.splits ?? []) services.push(ctx.service(split.serviceNamespace, split.serviceName)?.spec ?? null);
      }
    }
    return JSON.stringify([ingress.metadata.creationTimestamp, ingress.metadata.generation, ingress.spec, services]);
  }
}

/** A KIngress of another class is never touched. */
export function isFerryIngress(ingress: KIngress): boolean {
  return (ingress.metadata.annotations?.[INGRESS_CLASS_ANNOTATION] ?? FERRY_INGRESS_CLASS) === FERRY_INGRESS_CLASS;
}
