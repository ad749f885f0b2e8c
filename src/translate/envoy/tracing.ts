import type { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { OpenTelemetryConfig } from 'envoy-proto-ts/envoy/config/trace/v3/opentelemetry';
import type { HttpConnectionManager_Tracing } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { REVISION_HEADER, REVISION_NAMESPACE_HEADER } from '../../model/serving.js';
import type { TracingOptions } from '../../model/tracing-options.js';
import { buildHostPortCluster } from './clusters.js';
import { durationFromMs, toAny } from './proto-helpers.js';

/** The cluster of the OpenTelemetry collector, sent by Ferry with the listeners that trace (no `/`: no Service's). */
export const TRACING_COLLECTOR_CLUSTER = 'ferry-tracing-collector';

/**
 * The span attributes that say which Knative revision served a request. Their values are the request headers that
 * every split of a Route sets (they overwrite what a client sent), read when the span ends, after routing chose the
 * split; a request no split served (404, redirect) has none.
 */
export const KNATIVE_SPAN_TAGS: ReadonlyArray<{ tag: string; header: string }> = [
  { tag: 'knative.revision.name', header: REVISION_HEADER.toLowerCase() },
  { tag: 'knative.revision.namespace', header: REVISION_NAMESPACE_HEADER.toLowerCase() },
];

/** An export that takes longer is dropped: the collector must not hold the gateway's memory. */
const EXPORT_TIMEOUT_MS = 5_000;

/** The HTTP connection manager's tracing: Envoy's OpenTelemetry tracer, exporting OTLP to the collector cluster. */
export function buildTracing(tracing: TracingOptions | undefined): HttpConnectionManager_Tracing | undefined {
  if (!tracing) return undefined;
  const timeout = durationFromMs(EXPORT_TIMEOUT_MS);
  const exporter = tracing.protocol === 'grpc'
    ? { grpcService: { envoyGrpc: { clusterName: TRACING_COLLECTOR_CLUSTER }, timeout } }
    : { httpService: { httpUri: { uri: `http://${hostForUri(tracing.host)}:${tracing.port}${tracing.path}`, cluster: TRACING_COLLECTOR_CLUSTER, timeout } } };
  return {
    overallSampling: { value: tracing.samplingPercent },
    verbose: false,
    customTags: KNATIVE_SPAN_TAGS.map(({ tag, header }) => ({ tag, requestHeader: { name: header, defaultValue: '' } })),
    provider: {
      name: 'envoy.tracers.opentelemetry',
      typedConfig: toAny('envoy.config.trace.v3.OpenTelemetryConfig', OpenTelemetryConfig, OpenTelemetryConfig.fromPartial({ ...exporter, serviceName: tracing.serviceName })),
    },
  };
}

/** The collector: an IP address as is, a DNS name resolved and followed as it changes; HTTP/2 for OTLP/gRPC. */
export function buildTracingCollectorCluster(tracing: TracingOptions, connectTimeoutMs: number): Cluster {
  return buildHostPortCluster(TRACING_COLLECTOR_CLUSTER, tracing, connectTimeoutMs);
}

function hostForUri(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
