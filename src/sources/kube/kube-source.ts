import { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import type { FerryMetrics } from '../../metrics.js';
import { silentLogger } from '../../log.js';
import { KNATIVE_CONFIG_MAPS, KNATIVE_NAMESPACE } from '../../model/config.js';
import { FERRY_CONFIG_MAP } from '../../model/gateway-options.js';
import type { IngressStatus } from '../../model/ingress.js';
import type { ObjectKind, ObjectsByKind } from '../../model/kinds.js';
import { SERVICE_NAME_LABEL, TLS_SECRET_TYPE } from '../../model/kube.js';
import { flatJoin, objectKey, type ObjectMeta } from '../../model/meta.js';
import { manifestKindName, validateObject } from '../../model/validate.js';
import { formatValidationError } from '../../model/validation-error.js';
import type { StoreUpdate } from '../../store/changes.js';
import type { Store } from '../../store/store.js';
import type { Source, SourceProblem } from '../source.js';
import { Informer, type Arrived, type InformerOptions, type ObjectName } from './informer.js';
import { KubeApiError, type KubeClient } from '../../kube/kube-client.js';
import { olderResourceVersion } from '../../kube/resource-version.js';
import { EndpointSliceNames } from './endpoint-slice-names.js';
import { ReferenceCounts, referencesOf } from './references.js';
import { statusOf, TRIMMERS } from './trim.js';

export interface KubeSourceOptions {
  client: KubeClient;
  store: Store;
  logger?: Logger;
  /** Where Ferry's own ConfigMap (config-ferry) lives. */
  systemNamespace: string;
  /**
   * Also read Knative Services, Routes, DomainMappings and ClusterDomainClaims and translate them as files mode
   * does (for clusters without Knative Serving's controllers). Every Service, EndpointSlice and TLS Secret is kept
   * then: which ones the translated KIngresses need is known only after translation.
   */
  knativeTranslation?: boolean;
  /** Services and Secrets needed whatever the KIngresses name ('ns/name'): the activator, the default certificate. */
  alwaysNeeded?: { services: readonly string[]; secrets: readonly string[] };
  metrics?: FerryMetrics;
  /** Informer knobs for tests (page size, watch timeout). */
  pageSize?: number;
  watchTimeoutSeconds?: number;
}

interface Collection {
  kind: ObjectKind;
  path: string;
  fieldSelector?: string;
}

/** How often a KIngress held back for an object it names that could not be read is tried again. */
const HOLD_RETRY_MS = 1_000;

/** A KIngress's status in the API server, with the resourceVersion it was seen at. */
export interface ObservedStatus {
  status: IngressStatus | undefined;
  resourceVersion: string;
}

function resourceVersionOf(raw: Record<string, unknown>): string {
  return (raw.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '';
}

/**
 * The Kubernetes source: one informer per kind Ferry reads, filling the Store with trimmed, validated objects, the
 * same ones the files source gives. KIngresses of another class never enter. Services, EndpointSlices and TLS
 * Secrets are kept only while a KIngress of Ferry's names them (one named for the first time is read by name before
 * the KIngress is applied, so that the KIngress is never translated without it; of the others only the EndpointSlices'
 * names are kept, to read a Service's slices by name). 'synced' is emitted once every informer's first list is in the
 * Store, in one batch.
 */
export class KubeSource extends EventEmitter implements Source {
  private readonly logger: Logger;
  private readonly informers = new Map<ObjectKind | 'FerryConfig', Informer<unknown>>();
  private readonly references: ReferenceCounts;
  private readonly filtered: boolean;
  /** Everything that changes the Store runs in this order: a fetch for a new reference holds what comes after it. */
  private queue: Promise<void> = Promise.resolve();
  /** Invalid objects by 'Kind:key': their last good version stays in the Store. */
  private readonly invalid = new Map<string, SourceProblem>();
  /** The generation of each invalid KIngress, for the observedGeneration of its status. */
  private readonly invalidGenerations = new Map<string, number | undefined>();
  /** Each KIngress's status as the API server has it, for the status writer. */
  private readonly observed = new Map<string, ObservedStatus>();
  private readonly statusListeners = new Set<(key: string) => void>();
  /** resourceVersions of objects fetched on demand: an older watch event still queued must not replace them. */
  private readonly fetchedVersions = new Map<string, string>();
  /** Reads begun when a KIngress arrived ('Kind:ns/name'), taken when its turn in the queue comes. */
  private readonly reads = new Map<string, Promise<Array<[ObjectKind, Record<string, unknown>]>>>();
  /**
   * KIngress versions held back because what they name for the first time could not be read (the API server was
   * away): the version before keeps serving, and each is tried again every HOLD_RETRY_MS until a newer event replaces it.
   */
  private readonly held = new Map<string, Arrived<ObjectsByKind['KIngress']>>();
  /** Every EndpointSlice's name by its Service, so that a Service named for the first time has its slices read by name. */
  private readonly sliceNames = new EndpointSliceNames();
  private readonly informerMetrics: InformerOptions<unknown>['metrics'];
  private stopped = false;

  constructor(private readonly options: KubeSourceOptions) {
    super();
    this.logger = (options.logger ?? silentLogger).child({ source: 'kube' });
    this.filtered = !options.knativeTranslation;
    this.references = new ReferenceCounts(options.alwaysNeeded ?? { services: [], secrets: [] });
    const metrics = options.metrics;
    this.informerMetrics = metrics && {
      relisted: (kind) => metrics.kubeRelists.inc({ kind }),
      watchRestarted: (kind, reason) => metrics.kubeWatchRestarts.inc({ kind, reason }),
    };
  }

  async start(): Promise<void> {
    const collections: Collection[] = [
      { kind: 'KIngress', path: '/apis/networking.internal.knative.dev/v1alpha1/ingresses' },
      { kind: 'Service', path: '/api/v1/services' },
      { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
      // Only TLS Secrets ever reach Ferry: the API server filters the others out.
      { kind: 'Secret', path: '/api/v1/secrets', fieldSelector: `type=${TLS_SECRET_TYPE}` },
      { kind: 'ConfigMap', path: `/api/v1/namespaces/${KNATIVE_NAMESPACE}/configmaps` },
    ];
    if (this.options.knativeTranslation) {
      collections.push(
        { kind: 'KnativeService', path: '/apis/serving.knative.dev/v1/services' },
        { kind: 'Route', path: '/apis/serving.knative.dev/v1/routes' },
        { kind: 'DomainMapping', path: '/apis/serving.knative.dev/v1beta1/domainmappings' },
        { kind: 'ClusterDomainClaim', path: '/apis/networking.internal.knative.dev/v1alpha1/clusterdomainclaims' },
      );
    }
    const started = Date.now();
    const lists = await Promise.all(collections.map(async (collection) => {
      const informer = this.informer(collection);
      const items = await informer.list().catch((error: unknown) => {
        throw new Error(`listing ${collection.kind === 'KIngress' ? 'KIngresses' : `${manifestKindName(collection.kind)}s`} (${collection.path}) failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      return { kind: collection.kind, items };
    }));
    const config = this.ferryConfigInformer();
    const configItems = await config.list();

    // KIngresses first: they decide which Services, EndpointSlices and Secrets are kept.
    const updates: StoreUpdate[] = [];
    for (const { kind, items } of lists.sort((a, b) => Number(b.kind === 'KIngress') - Number(a.kind === 'KIngress'))) {
      updates.push(...this.replaceUpdates(kind, items as Array<Arrived<ObjectsByKind[ObjectKind]>>));
    }
    updates.push(...this.ferryConfigUpdates(configItems[0]?.object as ObjectsByKind['ConfigMap'] | undefined));
    this.options.store.apply(updates);
    const counts = Object.fromEntries(lists.map(({ kind, items }) => [kind, items.length]));
    this.logger.info({ ms: Date.now() - started, listed: counts, kept: updates.length }, 'informers synced');
    for (const informer of this.informers.values()) informer.start();
    this.emit('synced');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
    await this.queue;
  }

  /** The problems of the objects the API server holds now (invalid objects), by object. */
  problems(): SourceProblem[] {
    return [...this.invalid.values()];
  }

  /** Why a KIngress ('ns/name') in the API server is not served as it is, for its status. */
  invalidIngress(key: string): { problem: SourceProblem; generation: number | undefined } | undefined {
    const problem = this.invalid.get(flatJoin(':', 'KIngress', key));
    return problem && { problem, generation: this.invalidGenerations.get(key) };
  }

  /** A KIngress's status in the API server as last seen (undefined: none yet, or not Ferry's). */
  observedStatus(key: string): ObservedStatus | undefined {
    return this.observed.get(key);
  }

  /** Called with a KIngress key whenever its status in the API server, or its validity, changed (or it came or went). */
  onObservedStatus(listener: (key: string) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private informer(collection: Collection): Informer<unknown> {
    const { kind } = collection;
    const trim = TRIMMERS[kind] as (raw: Record<string, unknown>) => ObjectsByKind[ObjectKind] | undefined;
    const informer = new Informer<ObjectsByKind[ObjectKind]>({
      client: this.options.client, logger: this.logger, kind, path: collection.path, fieldSelector: collection.fieldSelector,
      pageSize: this.options.pageSize, watchTimeoutSeconds: this.options.watchTimeoutSeconds, metrics: this.informerMetrics,
      trim: (raw) => {
        if (kind === 'ConfigMap' && !KNATIVE_CONFIG_MAPS.includes(((raw.metadata ?? {}) as { name?: string }).name ?? '')) return undefined;
        const object = trim(raw);
        if (kind === 'KIngress' && object) this.observe(objectKey(object), { status: statusOf(raw), resourceVersion: resourceVersionOf(raw) });
        return object;
      },
    }, {
      replace: (items) => this.enqueue(() => this.relisted(kind, items)),
      added: (item) => {
        if (kind === 'KIngress' && this.filtered) this.prefetch(item.object as ObjectsByKind['KIngress']);
        this.enqueue(() => this.added(kind, item));
      },
      deleted: (name, resourceVersion) => this.enqueue(() => this.deleted(kind, name, resourceVersion)),
      progressed: (resourceVersion) => this.enqueue(() => this.forgetFetchedVersions(kind, resourceVersion)),
    });
    this.informers.set(kind, informer as Informer<unknown>);
    return informer as Informer<unknown>;
  }

  /** Ferry's own ConfigMap: its FERRY_* keys reach Ferry as environment variables at start, the whole of it the Store (gateway options). */
  private ferryConfigInformer(): Informer<unknown> {
    const informer = new Informer({
      client: this.options.client, logger: this.logger, kind: 'ConfigMap', path: `/api/v1/namespaces/${this.options.systemNamespace}/configmaps`,
      fieldSelector: `metadata.name=${FERRY_CONFIG_MAP}`, trim: TRIMMERS.ConfigMap, watchTimeoutSeconds: this.options.watchTimeoutSeconds, metrics: this.informerMetrics,
    }, {
      replace: (items) => this.ferryConfigChanged(items[0]?.object),
      added: (item) => this.ferryConfigChanged(item.object),
      deleted: () => this.ferryConfigChanged(undefined),
    });
    this.informers.set('FerryConfig', informer as Informer<unknown>);
    return informer as Informer<unknown>;
  }

  private ferryConfigChanged(object: unknown): void {
    this.enqueue(() => void this.options.store.apply(this.ferryConfigUpdates(object as ObjectsByKind['ConfigMap'] | undefined)));
  }

  /** An invalid config-ferry keeps its last good version in the Store (the problem names the key). */
  private ferryConfigUpdates(object: ObjectsByKind['ConfigMap'] | undefined): StoreUpdate[] {
    if (!object) return [{ kind: 'ConfigMap', key: `${this.options.systemNamespace}/${FERRY_CONFIG_MAP}`, delete: true }];
    return this.validate('ConfigMap', object) ? [{ kind: 'ConfigMap', object }] : [];
  }

  private enqueue(step: () => void | Promise<void>): void {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      this.logger.error({ err: error }, 'applying a change from the API server failed');
    });
  }

  private observe(key: string, status: ObservedStatus): void {
    this.observed.set(key, status);
    this.notifyStatus(key);
  }

  private notifyStatus(key: string): void {
    for (const listener of this.statusListeners) listener(key);
  }

  /** A relist at run time: applied whole, with what its KIngresses name for the first time fetched first. */
  private async relisted<K extends ObjectKind>(kind: K, items: Array<Arrived<ObjectsByKind[K]>>): Promise<void> {
    const needed = { services: [] as string[], secrets: [] as string[] };
    const updates = this.replaceUpdates(kind, items, needed);
    if (this.filtered) updates.unshift(...(await this.fetchNeeded(needed.services, needed.secrets)).updates);
    this.options.store.apply(updates);
  }

  /**
   * A kind's complete list as Store updates: what it holds now (valid and still needed), and the deletions of the
   * rest. What the listed KIngresses name for the first time is added to `needed` (fetched by the caller).
   */
  private replaceUpdates<K extends ObjectKind>(kind: K, items: Array<Arrived<ObjectsByKind[K]>>, needed?: { services: string[]; secrets: string[] }): StoreUpdate[] {
    const updates: StoreUpdate[] = [];
    const listed = new Set<string>();
    // A relist brings every KIngress's current version: none is held back any more.
    if (kind === 'KIngress') this.held.clear();
    if (kind === 'EndpointSlice' && this.filtered) this.sliceNames.replace(items.map(({ object }) => object as ObjectsByKind['EndpointSlice']));
    for (const { object } of items) {
      const key = objectKey(object);
      listed.add(key);
      if (!this.validate(kind, object)) continue;
      if (kind === 'KIngress') {
        const { added, removed } = this.references.set(key, referencesOf(object as ObjectsByKind['KIngress']));
        needed?.services.push(...added.services);
        needed?.secrets.push(...added.secrets);
        if (this.filtered) this.dropUnneeded(removed.services, removed.secrets, updates);
      } else if (!this.needed(kind, object)) continue;
      updates.push({ kind, object } as StoreUpdate);
    }
    const keep = new Set(updates.map((update) => ('delete' in update ? '' : objectKey(update.object))));
    for (const object of this.options.store.list(kind)) {
      const key = objectKey(object);
      // An invalid object that is still listed keeps its last good version.
      if (keep.has(key) || (listed.has(key) && this.invalid.has(flatJoin(':', kind, key)))) continue;
      updates.push({ kind, key, delete: true });
      if (kind === 'KIngress') this.dropIngress(key, updates);
    }
    for (const key of [...this.observed.keys()]) if (kind === 'KIngress' && !listed.has(key)) this.observed.delete(key);
    for (const key of [...this.invalid.keys()]) if (key.startsWith(`${kind}:`) && !listed.has(key.slice(kind.length + 1))) this.invalid.delete(key);
    return updates;
  }

  private async added<K extends ObjectKind>(kind: K, arrived: Arrived<ObjectsByKind[K]>): Promise<void> {
    const { object, resourceVersion } = arrived;
    if (this.stopped) return;
    const key = objectKey(object);
    if (kind === 'KIngress') this.held.delete(key);
    if (kind === 'EndpointSlice' && this.filtered) this.sliceNames.set(object as ObjectsByKind['EndpointSlice']);
    if (this.staleAfterFetch(kind, key, resourceVersion)) return;
    if (!this.validate(kind, object)) return;
    const updates: StoreUpdate[] = [];
    if (kind === 'KIngress') {
      const { added, removed } = this.references.set(key, referencesOf(object as ObjectsByKind['KIngress']));
      if (this.filtered) {
        const fetched = await this.fetchNeeded(added.services, added.secrets);
        if (fetched.failed) {
          // Never translated without them: its last version keeps serving (and counting its references).
          const stored = this.options.store.get('KIngress', key);
          this.references.set(key, stored && referencesOf(stored));
          this.hold(key, arrived as Arrived<ObjectsByKind['KIngress']>);
          return;
        }
        updates.push(...fetched.updates);
        this.dropUnneeded(removed.services, removed.secrets, updates);
      }
    } else if (!this.needed(kind, object)) {
      const name = kind === 'EndpointSlice' ? object.metadata.labels?.[SERVICE_NAME_LABEL] : object.metadata.name;
      if (name !== undefined) this.forgetRead(kind === 'Secret' ? 'Secret' : 'Service', flatJoin('/', object.metadata.namespace ?? '', name));
      return;
    }
    updates.push({ kind, object } as StoreUpdate);
    this.options.store.apply(updates);
  }

  /** Tries a held KIngress version again later, unless a newer event (or a relist) replaced it meanwhile. */
  private hold(key: string, arrived: Arrived<ObjectsByKind['KIngress']>): void {
    this.held.set(key, arrived);
    const retry = (): void => {
      if (this.held.get(key) === arrived) this.enqueue(() => (this.held.get(key) === arrived ? this.added('KIngress', arrived) : undefined));
    };
    setTimeout(retry, HOLD_RETRY_MS).unref();
  }

  private deleted(kind: ObjectKind, name: ObjectName, resourceVersion: string): void {
    const key = name.namespace ? flatJoin('/', name.namespace, name.name) : name.name;
    if (kind === 'KIngress') this.held.delete(key);
    if (kind === 'EndpointSlice') this.forgetRead('Service', this.sliceNames.delete(key));
    else if (kind === 'Service' || kind === 'Secret') this.forgetRead(kind, key);
    if (this.staleAfterFetch(kind, key, resourceVersion)) return;
    this.invalid.delete(flatJoin(':', kind, key));
    const updates: StoreUpdate[] = [{ kind, key, delete: true }];
    if (kind === 'KIngress') {
      this.dropIngress(key, updates);
      if (this.observed.delete(key)) this.notifyStatus(key);
    }
    this.options.store.apply(updates);
  }

  private dropIngress(key: string, updates: StoreUpdate[]): void {
    const { removed } = this.references.set(key, undefined);
    if (this.filtered) this.dropUnneeded(removed.services, removed.secrets, updates);
  }

  /** Whether the Store should hold this Service, EndpointSlice or Secret now. */
  private needed(kind: ObjectKind, object: ObjectsByKind[ObjectKind]): boolean {
    if (!this.filtered) return true;
    const key = objectKey(object);
    if (kind === 'Service') return this.references.hasService(key);
    if (kind === 'Secret') return this.references.hasSecret(key);
    if (kind === 'EndpointSlice') {
      const service = object.metadata.labels?.[SERVICE_NAME_LABEL];
      return service !== undefined && this.references.hasService(flatJoin('/', object.metadata.namespace ?? '', service));
    }
    return true;
  }

  private dropUnneeded(services: readonly string[], secrets: readonly string[], updates: StoreUpdate[]): void {
    const { store } = this.options;
    for (const key of services) {
      const [namespace, name] = key.split('/') as [string, string];
      if (store.get('Service', key)) updates.push({ kind: 'Service', key, delete: true });
      for (const slice of store.endpointSlicesForService(namespace, name)) updates.push({ kind: 'EndpointSlice', key: objectKey(slice), delete: true });
    }
    for (const key of secrets) if (store.get('Secret', key)) updates.push({ kind: 'Secret', key, delete: true });
  }

  /**
   * Services (with their EndpointSlices) and Secrets a KIngress names for the first time, read from the API server;
   * `failed` when one of the reads failed (an object that does not exist is no failure).
   */
  private async fetchNeeded(services: readonly string[], secrets: readonly string[]): Promise<{ updates: StoreUpdate[]; failed: boolean }> {
    const { store } = this.options;
    const updates: StoreUpdate[] = [];
    const fetched: Array<Promise<void>> = [];
    const keep = (kind: ObjectKind, raw: Record<string, unknown>): void => {
      const object = TRIMMERS[kind](raw);
      if (!object || !this.validate(kind, object)) return;
      const version = resourceVersionOf(raw);
      if (version) this.fetchedVersions.set(flatJoin(':', kind, objectKey(object)), version);
      updates.push({ kind, object } as StoreUpdate);
    };
    for (const [kind, keys] of [['Service', services], ['Secret', secrets]] as const) {
      for (const key of keys) {
        const read = this.takeRead(kind, key);
        if (store.get(kind, key)) continue;
        fetched.push(read.then((objects) => objects.forEach(([objectKind, raw]) => keep(objectKind, raw))));
      }
    }
    const results = await Promise.allSettled(fetched);
    const failures = results.filter((result) => result.status === 'rejected');
    for (const result of failures) this.logger.warn({ err: String(result.reason) }, 'reading an object a KIngress names failed; the KIngress waits for it (its last version keeps serving)');
    return { updates, failed: failures.length > 0 };
  }

  /**
   * Starts reading what a KIngress names and the Store lacks as soon as the KIngress arrives, before its turn in the
   * queue: a burst of new KIngresses then waits for its reads side by side, not one after another.
   */
  private prefetch(ingress: ObjectsByKind['KIngress']): void {
    const { services, secrets } = referencesOf(ingress);
    for (const [kind, keys] of [['Service', services], ['Secret', secrets]] as const) {
      for (const key of keys) {
        const id = flatJoin(':', kind, key);
        if (this.options.store.get(kind, key) || this.reads.has(id)) continue;
        const read = this.read(kind, key);
        read.catch(() => undefined);
        this.reads.set(id, read);
      }
    }
  }

  /**
   * A read begun before this event (of the Service, one of its slices, or the Secret) would bring an older version
   * or a deleted object back: the KIngress that needs it reads again in its turn.
   */
  private forgetRead(kind: 'Service' | 'Secret', key: string | undefined): void {
    if (key !== undefined) this.reads.delete(flatJoin(':', kind, key));
  }

  /** The read begun by prefetch, or a new one. */
  private takeRead(kind: 'Service' | 'Secret', key: string): Promise<Array<[ObjectKind, Record<string, unknown>]>> {
    const id = flatJoin(':', kind, key);
    const read = this.reads.get(id);
    this.reads.delete(id);
    return read ?? this.read(kind, key);
  }

  /** A Service with its EndpointSlices (read by the names the slice watch gave), or a TLS Secret, from the API server (nothing when absent). */
  private async read(kind: 'Service' | 'Secret', key: string): Promise<Array<[ObjectKind, Record<string, unknown>]>> {
    const { client } = this.options;
    const [namespace, name] = key.split('/') as [string, string];
    if (kind === 'Secret') {
      const raw = await absentIsUndefined(client.get(`/api/v1/namespaces/${namespace}/secrets/${name}`));
      return raw?.type === TLS_SECRET_TYPE ? [['Secret', raw]] : [];
    }
    const [service, ...slices] = await Promise.all([
      absentIsUndefined(client.get(`/api/v1/namespaces/${namespace}/services/${name}`)),
      ...this.sliceNames.of(key).map((slice) => absentIsUndefined(client.get(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices/${slice}`))),
    ]);
    const read: Array<[ObjectKind, Record<string, unknown>]> = service ? [['Service', service]] : [];
    // A slice whose label no longer names the Service is left to the watch (it says so soon).
    for (const slice of slices) if (slice && (slice.metadata as ObjectMeta | undefined)?.labels?.[SERVICE_NAME_LABEL] === name) read.push(['EndpointSlice', slice]);
    return read;
  }


  /** An event older than the version fetched on demand is dropped; a newer one ends the check. */
  private staleAfterFetch(kind: ObjectKind, key: string, resourceVersion: string): boolean {
    const id = flatJoin(':', kind, key);
    const fetched = this.fetchedVersions.get(id);
    if (fetched === undefined) return false;
    if (olderResourceVersion(resourceVersion, fetched)) return true;
    this.fetchedVersions.delete(id);
    return false;
  }

  /** The watch of this kind has passed these fetched versions: no older event of theirs can come any more. */
  private forgetFetchedVersions(kind: ObjectKind, resourceVersion: string): void {
    for (const [id, fetched] of this.fetchedVersions) {
      if (id.startsWith(`${kind}:`) && !olderResourceVersion(resourceVersion, fetched)) this.fetchedVersions.delete(id);
    }
  }

  /** Valid objects pass; an invalid one is reported with its field and keeps its last good version. */
  private validate(kind: ObjectKind, object: ObjectsByKind[ObjectKind]): boolean {
    const id = flatJoin(':', kind, objectKey(object));
    const errors = validateObject(kind, object as never);
    const key = objectKey(object);
    if (kind === 'KIngress') this.invalidGenerations.delete(key);
    if (errors.length === 0) {
      // A KIngress that was invalid and is valid again gets its status from translation now.
      if (this.invalid.delete(id) && kind === 'KIngress') this.notifyStatus(key);
      return true;
    }
    if (kind === 'KIngress') this.invalidGenerations.set(key, object.metadata.generation);
    const problem: SourceProblem = { severity: 'error', ...errors[0]!, message: errors.map((e) => (e === errors[0] ? e.message : `${e.field}: ${e.message}`)).join('; ') };
    const before = this.invalid.get(id);
    this.invalid.set(id, problem);
    if (before?.message !== problem.message) {
      if (kind === 'KIngress') this.notifyStatus(key);
      this.logger.error({ object: problem.object, field: problem.field }, `${formatValidationError(problem)} (its last good version, if any, keeps serving)`);
      this.emit('problem', problem);
    }
    return false;
  }
}

async function absentIsUndefined<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof KubeApiError && error.statusCode === 404) return undefined;
    throw error;
  }
}
