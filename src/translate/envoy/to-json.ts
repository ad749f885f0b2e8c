import { Cluster } from 'envoy-proto-ts/envoy/config/cluster/v3/cluster';
import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import { Listener } from 'envoy-proto-ts/envoy/config/listener/v3/listener';
import { RouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/route';
import { OpenTelemetryConfig } from 'envoy-proto-ts/envoy/config/trace/v3/opentelemetry';
import { ScopedRouteConfiguration } from 'envoy-proto-ts/envoy/config/route/v3/scoped_route';
import { HeaderMutation } from 'envoy-proto-ts/envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation';
import { StdoutAccessLog } from 'envoy-proto-ts/envoy/extensions/access_loggers/stream/v3/stream';
import { HeaderMutation as HeaderMutationFilter } from 'envoy-proto-ts/envoy/extensions/filters/http/header_mutation/v3/header_mutation';
import { ConnectionLimit } from 'envoy-proto-ts/envoy/extensions/filters/network/connection_limit/v3/connection_limit';
import { Router } from 'envoy-proto-ts/envoy/extensions/filters/http/router/v3/router';
import { ExtAuthz, ExtAuthzPerRoute } from 'envoy-proto-ts/envoy/extensions/filters/http/ext_authz/v3/ext_authz';
import { ProxyProtocol } from 'envoy-proto-ts/envoy/extensions/filters/listener/proxy_protocol/v3/proxy_protocol';
import { TlsInspector } from 'envoy-proto-ts/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector';
import { HttpConnectionManager } from 'envoy-proto-ts/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager';
import { Secret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import { DownstreamTlsContext, UpstreamTlsContext } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/tls';
import { HttpProtocolOptions } from 'envoy-proto-ts/envoy/extensions/upstreams/http/v3/http_protocol_options';
import type { XdsResource } from '../../xds/resource.js';

interface MessageFns {
  decode(input: Uint8Array): unknown;
  toJSON(message: never): unknown;
}

/** The message types Ferry emits, top-level and inside google.protobuf.Any. */
const KNOWN_TYPES: Record<string, MessageFns> = {
  'envoy.config.cluster.v3.Cluster': Cluster,
  'envoy.config.endpoint.v3.ClusterLoadAssignment': ClusterLoadAssignment,
  'envoy.config.listener.v3.Listener': Listener,
  'envoy.config.route.v3.RouteConfiguration': RouteConfiguration,
  'envoy.config.route.v3.ScopedRouteConfiguration': ScopedRouteConfiguration,
  'envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation': HeaderMutation,
  'envoy.extensions.transport_sockets.tls.v3.Secret': Secret,
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': HttpConnectionManager,
  'envoy.extensions.filters.http.router.v3.Router': Router,
  'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz': ExtAuthz,
  'envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute': ExtAuthzPerRoute,
  'envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol': ProxyProtocol,
  'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation': HeaderMutationFilter,
  'envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit': ConnectionLimit,
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': StdoutAccessLog,
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': TlsInspector,
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': DownstreamTlsContext,
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': UpstreamTlsContext,
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': HttpProtocolOptions,
  'envoy.config.trace.v3.OpenTelemetryConfig': OpenTelemetryConfig,
};

export interface ToJsonOptions {
  /** Show TLS private keys instead of "[redacted]" (as Envoy's config_dump does); only for tests. */
  revealPrivateKeys?: boolean;
}

/**
 * A resource as proto3 JSON in the shape of Envoy's config_dump: Any fields decoded with "@type",
 * Durations as "1.5s", private keys redacted. Envoy's own JSON parser accepts this output (used for
 * `ferry dump` and tests).
 */
export function resourceToJson(resource: Pick<XdsResource, 'typeUrl' | 'bytes'>, options: ToJsonOptions = {}): Record<string, unknown> {
  const json = messageToJson(resource.typeUrl, resource.bytes);
  const privateKey = (json.tlsCertificate as { privateKey?: Record<string, unknown> } | undefined)?.privateKey;
  if (privateKey && !options.revealPrivateKeys) json.tlsCertificate = { ...(json.tlsCertificate as object), privateKey: { inlineString: '[redacted]' } };
  return json;
}

function messageToJson(typeUrl: string, bytes: Uint8Array): Record<string, unknown> {
  const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const fns = KNOWN_TYPES[typeName];
  if (!fns) return { '@type': typeUrl, value: Buffer.from(bytes).toString('base64') };
  const message = fns.decode(bytes);
  return { '@type': typeUrl, ...(refine(message, fns.toJSON(message as never)) as Record<string, unknown>) };
}

/** Walks the decoded message beside its ts-proto JSON to fix what plain toJSON cannot know: Any and Duration. */
function refine(message: unknown, json: unknown): unknown {
  if (message === null || typeof message !== 'object' || json === null || typeof json !== 'object') return json;
  if (isAny(message)) return messageToJson(message.typeUrl, message.value);
  if (isDuration(message)) return formatDuration(message);
  if (Array.isArray(json)) return json.map((item, i) => refine((message as unknown[])[i], item));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) out[key] = refine((message as Record<string, unknown>)[key], value);
  return out;
}

function isAny(value: object): value is { typeUrl: string; value: Uint8Array } {
  const keys = Object.keys(value);
  return keys.length === 2 && 'typeUrl' in value && 'value' in value && value.value instanceof Uint8Array;
}

function isDuration(value: object): value is { seconds: number; nanos: number } {
  const keys = Object.keys(value);
  return keys.length === 2 && 'seconds' in value && 'nanos' in value && typeof value.seconds === 'number';
}

function formatDuration({ seconds, nanos }: { seconds: number; nanos: number }): string {
  if (!nanos) return `${seconds}s`;
  return `${seconds}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}s`;
}
