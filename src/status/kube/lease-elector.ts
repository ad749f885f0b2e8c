import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import { KubeApiError, type KubeClient } from '../../kube/kube-client.js';

export interface LeaseElectorOptions {
  client: KubeClient;
  logger: Logger;
  namespace: string;
  name: string;
  /** This replica's identity in the Lease (its Pod name). */
  identity: string;
  /** How long a Lease holds without renewal (default 15 s, as client-go's leader election). */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long stops leading (default 10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts to take or renew the Lease (default 2 s). */
  retryPeriodMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/**
 * Leader election through a coordination.k8s.io Lease, as client-go does it: a replica takes a Lease whose holder
 * has not renewed it within its duration (as this replica observed it: clocks of replicas are never compared), and
 * renews it every retry period; every write names the resourceVersion it read, so two replicas never both win.
 * A leader that fails to renew within the renew deadline, or finds another holder, stops leading at once.
 */
export class LeaseElector {
  private leading = false;
  private stopped = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private readonly listeners = new Set<(leading: boolean) => void>();
  /** The holder record last seen and when it changed (local clock). */
  private observed: { record: string; at: number } | undefined;
  private readonly path: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(private readonly options: LeaseElectorOptions) {
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  onChange(listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops; a leader hands the Lease back (empty holder) so that another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.running;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.options.client.get<Lease>(`${this.path}/${this.options.name}`);
      if (lease.spec.holderIdentity === this.options.identity) {
        await this.options.client.replace(`${this.path}/${this.options.name}`, { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: null, renewTime: null } });
      }
    } catch (error) {
      this.options.logger.warn({ err: String(error) }, 'could not hand the status-writer Lease back; another replica takes it when it expires');
    }
  }

  private async loop(): Promise<void> {
    let lastRenew = 0;
    while (!this.stopped) {
      try {
        const held = await this.tryAcquireOrRenew();
        if (held) lastRenew = Date.now();
        if (this.leading && !held) this.setLeading(false);
        else if (!this.leading && held) this.setLeading(true);
      } catch (error) {
        this.options.logger.debug({ err: String(error) }, 'Lease update failed');
        if (this.leading && Date.now() - lastRenew > this.renewDeadlineMs) {
          this.options.logger.warn({ lease: this.leaseName }, 'could not renew the status-writer Lease in time: no longer the leader');
          this.setLeading(false);
        }
      }
      await sleep(this.retryPeriodMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  private get leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.options.logger.info({ lease: this.leaseName, identity: this.options.identity }, leading ? 'took the status-writer Lease: this replica writes KIngress status' : 'lost the status-writer Lease: this replica stops writing status');
    for (const listener of this.listeners) listener(leading);
  }

  /** True when this replica holds the Lease after the attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, name, namespace } = this.options;
    const now = new Date().toISOString().replace(/Z$/, '000Z');
    const durationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    let lease: Lease;
    try {
      lease = await client.get<Lease>(`${this.path}/${name}`);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.statusCode === 404)) throw error;
      await client.create(this.path, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      } satisfies Lease);
      return true;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const expired = this.observed.at + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < Date.now();
    if (holder !== '' && holder !== identity && !expired) return false;
    const taking = holder !== identity;
    await client.replace(`${this.path}/${name}`, {
      ...lease,
      spec: {
        ...spec, holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime: now,
        ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    });
    this.observed = undefined;
    return true;
  }
}
