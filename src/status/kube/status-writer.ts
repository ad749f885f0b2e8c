import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../log.js';
import type { IngressStatus } from '../../model/ingress.js';
import type { Condition } from '../../model/meta.js';
import { formatValidationError, type ValidationError } from '../../model/validation-error.js';
import { KubeApiError, type KubeClient } from '../../kube/kube-client.js';
import { olderResourceVersion } from '../../kube/resource-version.js';
import { condition } from '../ingress-status.js';
import type { ReconcileState, ServedIngress } from '../served-ingress.js';

/** What the writer reads: the served KIngresses and their statuses, the API server's view, who leads. */
export interface StatusWriterInputs {
  current(): ReconcileState;
  /** The status Ferry would give a served KIngress now (`programmed`: its gateways already took this change). */
  statusOf(served: ServedIngress, programmed: boolean): IngressStatus;
  /** The status the API server holds for a KIngress, as last seen by the informer, with its resourceVersion. */
  observedStatus(key: string): { status: IngressStatus | undefined; resourceVersion: string } | undefined;
  /** Why the KIngress in the API server is not served as it is (a validation error), with its generation. */
  invalid(key: string): { problem: ValidationError; generation: number | undefined } | undefined;
  isLeader(): boolean;
}

export interface StatusWriterOptions {
  client: KubeClient;
  logger: Logger;
  inputs: StatusWriterInputs;
  /** Status writes per second at most (default 100), so that a first sync of thousands does not flood the API server. */
  writesPerSecond?: number;
  /** Writes in flight at once (default 8). */
  concurrency?: number;
  /** Told of each write's result (a metric). */
  written?: (result: 'written' | 'failed') => void;
}

interface Deferred {
  keys: string[];
  /** When the first of their graces ends. */
  until: number;
}

const INGRESS_PATH = '/apis/networking.internal.knative.dev/v1alpha1/namespaces';
const NOT_READY_GRACE_MS = 1_000;
/** KIngresses looked at per turn of the event loop. */
const KEYS_PER_TURN = 500;

/**
 * Writes each KIngress's status through the status subresource, only when it differs from what the API server
 * holds, only while this replica leads, at a bounded rate. Work follows what changed: the KIngresses of each pass,
 * those still waiting for their gateways (re-checked when a gateway ACKs), and those whose status someone else
 * changed. A generation that was once LoadBalancerReady stays so when gateways disconnect later (a rolling restart
 * of the gateways must not turn every Knative Route not-ready); a new generation waits for the gateways again.
 */
export class KubeStatusWriter {
  private readonly dirty = new Set<string>();
  /** KIngresses whose status is not final yet, since when: looked at again whenever a gateway's sync changes. */
  private readonly waiting = new Map<string, { since: number; generation: number | undefined }>();
  /** The pass in which each KIngress was last seen Ready: its readiness holds until it changes again. */
  private readonly readyInPass = new Map<string, number>();
  /** What was written and not yet seen back from the informer, with the resourceVersion the write made. */
  private readonly unseen = new Map<string, { status: IngressStatus; resourceVersion: string }>();
  /** One write per KIngress at a time: two in flight could land in either order. */
  private readonly writing = new Set<string>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private stopped = false;

  constructor(private readonly options: StatusWriterOptions) {
    this.tokens = this.rate;
  }

  private get rate(): number {
    return this.options.writesPerSecond ?? 100;
  }

  /** After a reconcile pass: its changed KIngresses, those still waiting, and the removed ones forgotten. */
  passDone(state: ReconcileState): void {
    for (const key of state.changed) this.markDirty(key);
    for (const key of this.waiting.keys()) this.markDirty(key);
    for (const key of state.removed) this.readyInPass.delete(key);
  }

  /** A gateway connected, ACKed, NACKed or left: the KIngresses waiting for gateways may be ready now. */
  gatewaysChanged(): void {
    for (const key of this.waiting.keys()) this.markDirty(key);
  }

  /** The API server's status of a KIngress changed (our own write coming back, or someone else's). */
  observedChanged(key: string): void {
    this.markDirty(key);
  }

  /** Everything once, e.g. when this replica becomes the leader. */
  all(): void {
    for (const key of this.options.inputs.current().ingresses.keys()) this.markDirty(key);
  }

  markDirty(key: string): void {
    this.dirty.add(key);
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The status Ferry wants for a KIngress now; undefined when it has nothing to say (not served, not invalid). */
  desired(key: string): IngressStatus | undefined {
    const { inputs } = this.options;
    const invalid = inputs.invalid(key);
    if (invalid) {
      const failed = condition('NetworkConfigured', 'False', 'ValidationFailed', `${formatValidationError(invalid.problem)}; fix the KIngress (the last valid version, if any, keeps serving)`);
      return { observedGeneration: invalid.generation, conditions: [condition('LoadBalancerReady', 'Unknown', 'ValidationFailed', failed.message), failed, { ...failed, type: 'Ready' }] };
    }
    const served = inputs.current().ingresses.get(key);
    // A KIngress Ferry derived from Knative objects itself (--knative-translation) exists only in memory.
    if (!served || served.origin.kind !== 'Ingress') return undefined;
    const readyPass = this.readyInPass.get(key);
    // A KIngress first seen Ready at its current generation (Ferry restarted, or this replica just took the Lease)
    // stays Ready: its gateways took that generation before, and turning thousands of Knative Routes not-ready until
    // the gateways reconnect would cost as many writes, twice.
    if (readyPass === undefined && readyAtGeneration(this.known(key), served.ingress.metadata.generation)) {
      this.readyInPass.set(key, served.changedInPass);
      return inputs.statusOf(served, true);
    }
    if (readyPass === served.changedInPass) return inputs.statusOf(served, true);
    const status = inputs.statusOf(served, false);
    if (readyOf(status)) this.readyInPass.set(key, served.changedInPass);
    return status;
  }

  /** Flushes after delayMs, or sooner if a flush is due sooner already (an ACK must not wait out a grace period). */
  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delayMs);
  }

  private flush(): void {
    const { inputs } = this.options;
    const concurrency = this.options.concurrency ?? 8;
    if (!inputs.isLeader()) return;
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = now;
    // Keys whose not-ready status waits out its grace: dirty again after the loop (adding them during it would never
    // end), looked at again when the first grace ends.
    const deferred: Deferred = { keys: [], until: Infinity };
    try {
      this.flushDirty(concurrency, now, deferred);
    } finally {
      for (const key of deferred.keys) this.dirty.add(key);
      if (deferred.keys.length > 0) this.schedule(Math.max(0, deferred.until - now));
    }
  }

  private flushDirty(concurrency: number, now: number, deferred: Deferred): void {
    let looked = 0;
    for (const key of this.dirty) {
      if (this.inFlight >= concurrency) return;
      // Looked at again when its write is answered.
      if (this.writing.has(key)) continue;
      // The rest on a later turn: all 10k after a restart took ~0.3 s, while the gateways wait for answers. (Keys in
      // their grace are not counted: only they left, they would be looked at again and again until it ends.)
      if (looked >= KEYS_PER_TURN) {
        this.schedule(0);
        return;
      }
      this.dirty.delete(key);
      const desired = this.desired(key);
      if (!desired) {
        this.waiting.delete(key);
        continue;
      }
      const known = this.known(key);
      if (readyOf(desired) || desired.conditions?.some((c) => c.reason === 'ValidationFailed' || c.reason === 'DomainConflict')) this.waiting.delete(key);
      else {
        const previous = this.waiting.get(key);
        const since = previous !== undefined && previous.generation === desired.observedGeneration ? previous.since : now;
        this.waiting.set(key, { since, generation: desired.observedGeneration });
        // A new generation is usually Ready within milliseconds: its not-ready status is written only if it is not
        // by then, so that a burst of creates costs the API server one write each, not two.
        if (known?.observedGeneration !== desired.observedGeneration && now - since < NOT_READY_GRACE_MS) {
          deferred.keys.push(key);
          deferred.until = Math.min(deferred.until, since + NOT_READY_GRACE_MS);
          continue;
        }
      }
      looked++;
      if (sameStatus(known, desired)) continue;
      if (this.tokens < 1) {
        this.dirty.add(key);
        this.schedule(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
        return;
      }
      this.tokens -= 1;
      void this.write(key, withTransitionTimes(desired, this.known(key)));
    }
  }

  /** The KIngress's status in the API server: as the informer saw it, or as our newer write left it. */
  private known(key: string): IngressStatus | undefined {
    const observed = this.options.inputs.observedStatus(key);
    const unseen = this.unseen.get(key);
    if (unseen && (!observed || olderResourceVersion(observed.resourceVersion, unseen.resourceVersion))) return unseen.status;
    this.unseen.delete(key);
    return observed?.status;
  }

  private async write(key: string, status: IngressStatus): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    this.inFlight++;
    this.writing.add(key);
    try {
      if (!this.options.inputs.isLeader()) return;
      const written = await this.options.client.mergePatch<{ metadata?: { resourceVersion?: string } }>(`${INGRESS_PATH}/${namespace}/ingresses/${name}/status`, {
        status: { publicLoadBalancer: null, privateLoadBalancer: null, ...status },
      });
      this.unseen.set(key, { status, resourceVersion: written.metadata?.resourceVersion ?? '' });
      this.options.written?.('written');
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 404) return;
      this.options.written?.('failed');
      this.options.logger.warn({ ingress: key, err: error instanceof Error ? error.message : String(error) }, 'writing a KIngress status failed; retrying');
      this.dirty.add(key);
      this.schedule(1_000);
    } finally {
      this.inFlight--;
      this.writing.delete(key);
      if (this.dirty.size > 0) this.schedule(0);
    }
  }
}

function readyOf(status: IngressStatus): boolean {
  return status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function readyAtGeneration(status: IngressStatus | undefined, generation: number | undefined): boolean {
  return status !== undefined && status.observedGeneration === generation && readyOf(status);
}

/** Equal for Knative's purposes: the same generation, conditions (times aside) and load balancers. */
function sameStatus(observed: IngressStatus | undefined, desired: IngressStatus): boolean {
  if (!observed) return false;
  const conditions = (status: IngressStatus): Condition[] => [...(status.conditions ?? [])]
    .map(({ type, status: s, reason, message }) => ({ type, status: s, reason: reason ?? '', message: message ?? '' }))
    .sort((a, b) => a.type.localeCompare(b.type));
  return observed.observedGeneration === desired.observedGeneration
    && isDeepStrictEqual(conditions(observed), conditions(desired))
    && isDeepStrictEqual(observed.publicLoadBalancer ?? null, desired.publicLoadBalancer ?? null)
    && isDeepStrictEqual(observed.privateLoadBalancer ?? null, desired.privateLoadBalancer ?? null);
}

/** A condition keeps its lastTransitionTime while its status stays; a new status gets the time of now. */
function withTransitionTimes(desired: IngressStatus, observed: IngressStatus | undefined): IngressStatus {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    ...desired,
    conditions: (desired.conditions ?? []).map((c) => {
      const before = observed?.conditions?.find((o) => o.type === c.type);
      return { ...c, lastTransitionTime: before?.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now };
    }),
  };
}
