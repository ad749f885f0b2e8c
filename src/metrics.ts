import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';

/** Labelled values, read when /metrics is scraped. */
export type ScrapedValues = () => Iterable<readonly [LabelValues<string>, number]>;

/**
 * A gauge read when /metrics is scraped instead of set on every change: a count that moves with each change would
 * cost each change a hash of its labels, for a value nobody reads between scrapes.
 */
export class ScrapedGauge {
  private readonly sources = new Set<ScrapedValues>();

  constructor(config: { name: string; help: string; labelNames: string[]; registers: Registry[] }) {
    const sources = this.sources;
    new Gauge({ ...config, collect() {
      // Every scrape reads every value: a label set that is gone (a rejection that ended) must not linger.
      this.reset();
      for (const read of sources) for (const [labels, value] of read()) this.set(labels, value);
    } });
  }

  /** Adds where values come from; returns the function that removes it. */
  readFrom(read: ScrapedValues): () => void {
    this.sources.add(read);
    return () => this.sources.delete(read);
  }
}

/**
 * How often the event-loop-delay metrics (nodejs_eventloop_lag_*) sample, in ms. prom-client's 10 ms woke Ferry 100
 * times a second even when idle (~3.3 ms of CPU per second, against ~1.1 at 50 ms); a stall of the event loop is still
 * seen in the next sample.
 */
const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * Ferry's Prometheus metrics, in one registry that /metrics serves. Created once per Ferry instance
 * (tests make their own), passed to the parts that record into it.
 */
export class FerryMetrics {
  readonly registry = new Registry();
  readonly connectedGateways = new Gauge({ name: 'ferry_xds_connected_gateways', help: 'xDS streams connected, by gateway role and protocol', labelNames: ['role', 'protocol'], registers: [this.registry] });
  readonly pushes = new Counter({ name: 'ferry_xds_pushes_total', help: 'xDS responses sent, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly pushedBytes = new Counter({ name: 'ferry_xds_pushed_bytes_total', help: 'Bytes of xDS responses sent, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly acks = new Counter({ name: 'ferry_xds_acks_total', help: 'xDS responses ACKed by gateways, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly nacks = new Counter({ name: 'ferry_xds_nacks_total', help: 'xDS responses rejected (NACKed) by gateways, by resource type', labelNames: ['type'], registers: [this.registry] });
  readonly pushToAck = new Histogram({
    name: 'ferry_xds_push_to_ack_seconds', help: 'Time from sending an xDS response to its ACK or NACK', labelNames: ['type'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  readonly translationSeconds = new Histogram({
    name: 'ferry_translation_seconds', help: 'Time to translate a batch of object changes into Envoy resources',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  readonly resources = new ScrapedGauge({ name: 'ferry_xds_resources', help: 'Envoy resources held in the cache, by gateway role and type', labelNames: ['role', 'type'], registers: [this.registry] });
  readonly rejectedResources = new ScrapedGauge({
    name: 'ferry_xds_rejected_resources', help: 'Resources whose current content gateways rejected (NACK) and that they serve in their last good version, by type and resource: the number of gateways',
    labelNames: ['type', 'resource'], registers: [this.registry],
  });
  readonly objects = new ScrapedGauge({ name: 'ferry_objects', help: 'Objects read from the source, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly kubeRelists = new Counter({ name: 'ferry_kube_relists_total', help: 'Kube mode: complete lists after a watch could not resume (410 Gone, a broken stream), by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly kubeWatchRestarts = new Counter({ name: 'ferry_kube_watch_restarts_total', help: 'Kube mode: watch streams opened again, by kind and why (closed, error)', labelNames: ['kind', 'reason'], registers: [this.registry] });
  readonly kubeStatusWrites = new Counter({ name: 'ferry_kube_status_writes_total', help: 'Kube mode: KIngress status writes, by result', labelNames: ['result'], registers: [this.registry] });
  readonly kubeLeader = new Gauge({ name: 'ferry_kube_status_leader', help: 'Kube mode: 1 while this replica holds the status-writer Lease', registers: [this.registry] });
  readonly refusedConnections = new Counter({
    name: 'ferry_xds_refused_connections_total', help: 'xDS connections refused by mutual TLS, by reason (no_certificate, self_signed, unknown_ca, expired, not_yet_valid, invalid_certificate, no_h2_alpn, handshake_failed)',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly xdsCertificateNotAfter = new Gauge({ name: 'ferry_xds_tls_certificate_expiry_seconds', help: 'Expiry (Unix time) of the xDS server certificate in use, with mutual TLS', registers: [this.registry] });
  readonly errors = new Counter({ name: 'ferry_errors_total', help: 'Errors, by reason', labelNames: ['reason'], registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }
}
