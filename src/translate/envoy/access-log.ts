import type { AccessLog as EnvoyAccessLog } from 'envoy-proto-ts/envoy/config/accesslog/v3/accesslog';
import { StdoutAccessLog } from 'envoy-proto-ts/envoy/extensions/access_loggers/stream/v3/stream';
import type { AccessLog } from '../../model/gateway-options.js';
import { toAny } from './proto-helpers.js';

/**
 * The JSON access log's fields when the operator names none: Envoy's default text format as fields, plus the cluster
 * (`namespace/revision:port`, which says which Knative revision served the request) and the client's address.
 */
export const DEFAULT_JSON_ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
};

/** One access log line per request to the gateway's stdout, where container logs are collected; none when off. */
export function buildAccessLogs(accessLog: AccessLog | undefined): EnvoyAccessLog[] {
  if (!accessLog) return [];
  const logFormat = accessLog.format === 'json'
    ? { jsonFormat: { ...(accessLog.fields ?? DEFAULT_JSON_ACCESS_LOG_FIELDS) } }
    // Without a template Envoy writes its default format; a template's line ends where the operator's text ends.
    : accessLog.template === undefined ? undefined : { textFormatSource: { inlineString: `${accessLog.template}\n` } };
  return [{
    name: 'envoy.access_loggers.stdout',
    typedConfig: toAny('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', StdoutAccessLog, StdoutAccessLog.fromPartial(logFormat ? { logFormat } : {})),
  }];
}
