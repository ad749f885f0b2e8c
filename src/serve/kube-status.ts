import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';
import type { KubeClient } from '../kube/kube-client.js';
import type { KubeSource } from '../sources/kube/kube-source.js';
import { LeaseElector } from '../status/kube/lease-elector.js';
import { KubeStatusWriter } from '../status/kube/status-writer.js';
import type { XdsServer } from '../xds/server.js';
import type { FerryView } from './ferry-view.js';
import type { Reconciler } from './reconciler.js';

export interface KubeStatusOptions {
  client: KubeClient;
  logger: Logger;
  /** Where the Lease lives (Ferry's namespace). */
  namespace: string;
  /** This replica's name in the Lease. */
  identity: string;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  writesPerSecond?: number;
  metrics?: FerryMetrics;
}

export const STATUS_LEASE_NAME = 'ferry-status-writer';

/**
 * Kube mode's status path: every replica computes statuses, the one holding the Lease writes them. Fed by the
 * reconciler's passes, the gateways' ACKs and the informer's view of each KIngress's status.
 */
export class KubeStatus {
  readonly elector: LeaseElector;
  readonly writer: KubeStatusWriter;
  private readonly unsubscribe: Array<() => void> = [];
  /** The running pieces, once connect() was called. */
  private view: { current: () => ReturnType<Reconciler['current']>; ferry: FerryView } | undefined;

  private readonly metrics: FerryMetrics | undefined;

  constructor(options: KubeStatusOptions, private readonly source: KubeSource) {
    this.metrics = options.metrics;
    const logger = options.logger.child({ component: 'status' });
    this.elector = new LeaseElector({
      client: options.client, logger, namespace: options.namespace, name: options.leaseName ?? STATUS_LEASE_NAME, identity: options.identity,
      leaseDurationMs: options.leaseDurationMs, renewDeadlineMs: options.renewDeadlineMs, retryPeriodMs: options.retryPeriodMs,
    });
    this.writer = new KubeStatusWriter({
      client: options.client, logger, writesPerSecond: options.writesPerSecond,
      written: (result) => options.metrics?.kubeStatusWrites.inc({ result }),
      inputs: {
        current: () => this.view!.current(),
        statusOf: (served, programmed) => this.view!.ferry.ingressStatus(served, undefined, programmed),
        observedStatus: (key) => source.observedStatus(key),
        invalid: (key) => source.invalidIngress(key),
        isLeader: () => this.elector.isLeader(),
      },
    });
  }

  /** Ties the writer to the running pieces; it writes nothing before start(). */
  connect({ reconciler, xds, view }: { reconciler: Reconciler; xds: XdsServer; view: FerryView }): void {
    this.view = { current: () => reconciler.current(), ferry: view };
    this.unsubscribe.push(
      reconciler.onPass((state) => this.writer.passDone(state)),
      xds.onStreamsChanged(() => this.writer.gatewaysChanged()),
      this.source.onObservedStatus((key) => this.writer.observedChanged(key)),
      this.elector.onChange((leading) => {
        this.metrics?.kubeLeader.set(leading ? 1 : 0);
        if (leading) this.writer.all();
      }),
    );
  }

  /** After the first configuration is built: elect, then write. */
  start(): void {
    this.elector.start();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.writer.stop();
    await this.elector.stop();
  }
}
