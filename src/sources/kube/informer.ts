import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import { KubeApiError, type KubeClient, type WatchHandle } from '../../kube/kube-client.js';

/** An object as it arrived, trimmed to what Ferry reads, with the resourceVersion it had. */
export interface Arrived<T> {
  object: T;
  resourceVersion: string;
}

export interface InformerHandler<T> {
  /** A complete list: what is not in it is gone. Called after the first list and after every relist. */
  replace(items: Array<Arrived<T>>): void;
  added(item: Arrived<T>): void;
  /** Gone, or no longer Ferry's (trim dropped it): named by its metadata. */
  deleted(name: ObjectName, resourceVersion: string): void;
  /** A bookmark: every event of the kind up to this resourceVersion has been handed over. */
  progressed?(resourceVersion: string): void;
}

export interface InformerOptions<T> {
  client: KubeClient;
  logger: Logger;
  /** The kind's name in logs. */
  kind: string;
  /** The collection's path, e.g. /apis/discovery.k8s.io/v1/endpointslices or /api/v1/namespaces/ns/configmaps. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Trims a raw object on arrival; undefined drops it (an object that is not Ferry's is treated as absent). */
  trim(raw: Record<string, unknown>): T | undefined;
  /** Objects per list page (default 500): a large first list arrives, and is trimmed, page by page. */
  pageSize?: number;
  /** Counts relists and watch restarts (Prometheus). */
  metrics?: { relisted(kind: string): void; watchRestarted(kind: string, reason: 'closed' | 'error'): void };
  /** Longest a watch stays open before the server closes it and the informer opens the next (default 5-10 min). */
  watchTimeoutSeconds?: number;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;
const PROGRESS_INTERVAL_MS = 1_000;

/**
 * List, then watch from the list's resourceVersion with bookmarks, for one kind. A watch that ends is opened again
 * from the last resourceVersion seen (bookmarks keep it recent); one that the server refuses as too old (410 Gone)
 * and a broken connection that cannot resume are followed by a relist, handed over whole (replace), so that the
 * handler removes only what the complete new list lacks. Events of a stream that was given up are never handed over.
 */
export class Informer<T> {
  private resourceVersion = '';
  private watch: WatchHandle | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  /** Counts streams: an event from an earlier stream is dropped. */
  private stream = 0;

  constructor(private readonly options: InformerOptions<T>, private readonly handler: InformerHandler<T>) {}

  /**
   * A complete list (the first one is not handed to the handler: the source applies every kind's first list at once).
   * Consistent and page by page, not from the API server's watch cache (resourceVersion 0, as client-go lists): that
   * answers in one piece whatever the limit, and with 10k KIngresses, Services and EndpointSlices those three answers,
   * their text and their parse held at once left Ferry at 242 MB resident after a restart, against 196 MB with pages.
   */
  async list(): Promise<Array<Arrived<T>>> {
    const { client, path, fieldSelector, labelSelector, logger, kind } = this.options;
    const items: Array<Arrived<T>> = [];
    let continueToken: string | undefined;
    let reported = Date.now();
    let listed = 0;
    for (;;) {
      const page = await client.get<KubeList>(path, { limit: this.options.pageSize ?? 500, continue: continueToken, fieldSelector, labelSelector });
      for (const raw of page.items ?? []) {
        listed++;
        const object = this.options.trim(raw);
        if (object !== undefined) items.push({ object, resourceVersion: resourceVersionOf(raw) });
      }
      continueToken = page.metadata?.continue || undefined;
      if (!continueToken) {
        this.resourceVersion = page.metadata?.resourceVersion ?? '';
        break;
      }
      if (Date.now() - reported >= PROGRESS_INTERVAL_MS) {
        reported = Date.now();
        logger.info({ kind, listed, remaining: page.metadata?.remainingItemCount }, 'initial list in progress');
      }
    }
    logger.debug({ kind, listed, kept: items.length, resourceVersion: this.resourceVersion }, 'listed');
    return items;
  }

  /** Watches from the last list until stop(); relists (and hands the list over) whenever it must. */
  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { logger, kind } = this.options;
    let delay = RETRY_MIN_MS;
    let mustRelist = false;
    while (!this.stopped) {
      try {
        if (mustRelist) {
          const items = await this.list();
          if (this.stopped) return;
          this.handler.replace(items);
          this.options.metrics?.relisted(kind);
          logger.info({ kind, objects: items.length, resourceVersion: this.resourceVersion }, 'relisted');
          mustRelist = false;
        }
        const outcome = await this.watchOnce();
        if (outcome === 'gone') {
          logger.info({ kind, resourceVersion: this.resourceVersion }, 'watch expired (410 Gone): relisting');
          mustRelist = true;
        }
        this.options.metrics?.watchRestarted(kind, 'closed');
        delay = RETRY_MIN_MS;
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof KubeApiError && error.statusCode === 410) mustRelist = true;
        this.options.metrics?.watchRestarted(kind, 'error');
        logger.warn({ kind, err: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'watch failed; retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** One watch stream: 'closed' when the server ended it normally, 'gone' when it asks for a relist. */
  private async watchOnce(): Promise<'closed' | 'gone'> {
    const { client, path, fieldSelector, labelSelector } = this.options;
    const stream = ++this.stream;
    let gone = false;
    const timeout = this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const handle = await client.watch(path, { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: timeout, fieldSelector, labelSelector }, (event) => {
      if (stream !== this.stream || gone || this.stopped) return;
      if (event.type === 'ERROR') {
        const status = event.object as { code?: number; message?: string };
        if (status.code === 410) {
          gone = true;
          handle?.abort();
          return;
        }
        throw new Error(`watch error ${status.code ?? ''}: ${status.message ?? JSON.stringify(status)}`);
      }
      this.resourceVersion = resourceVersionOf(event.object) || this.resourceVersion;
      if (event.type === 'BOOKMARK') {
        this.handler.progressed?.(this.resourceVersion);
        return;
      }
      const object = event.type === 'DELETED' ? undefined : this.options.trim(event.object);
      // An object that stops being Ferry's (its class changed) is gone for Ferry.
      if (object === undefined) this.handler.deleted(nameOf(event.object), resourceVersionOf(event.object));
      else this.handler.added({ object, resourceVersion: resourceVersionOf(event.object) });
    });
    this.watch = handle;
    const error = await handle.done;
    this.stream++;
    if (gone) return 'gone';
    if (error instanceof KubeApiError && error.statusCode === 410) return 'gone';
    if (error) throw error;
    return 'closed';
  }
}

interface KubeList {
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items?: Array<Record<string, unknown>>;
}

function resourceVersionOf(raw: Record<string, unknown>): string {
  return ((raw.metadata as { resourceVersion?: string } | undefined)?.resourceVersion) ?? '';
}

export interface ObjectName {
  namespace?: string;
  name: string;
}

function nameOf(raw: Record<string, unknown>): ObjectName {
  const metadata = (raw.metadata ?? {}) as { namespace?: string; name?: string };
  return { namespace: metadata.namespace, name: metadata.name ?? '' };
}
