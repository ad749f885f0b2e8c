import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  readonly resources = new Gauge({ name: 'ferry_xds_resources', help: 'Envoy resources held in the cache, by gateway role and type', labelNames: ['role', 'type'], registers: [this.registry] });
  readonly objects = new Gauge({ name: 'ferry_objects', help: 'Objects read from the source, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'ferry_errors_total', help: 'Errors, by reason', labelNames: ['reason'], registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
