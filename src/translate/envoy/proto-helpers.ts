import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Any } from 'envoy-proto-ts/google/protobuf/any';
import type { Duration } from 'envoy-proto-ts/google/protobuf/duration';
import { ApiVersion, ConfigSource } from 'envoy-proto-ts/envoy/config/core/v3/config_source';
import { HeaderValueOption, HeaderValueOption_HeaderAppendAction } from 'envoy-proto-ts/envoy/config/core/v3/base';
import { withEncoded } from '../../xds/reused-writer.js';

interface Encoder<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/** Packs a message into google.protobuf.Any (for typed_config and typed_extension_protocol_options). */
export function toAny<T>(typeName: string, fns: Encoder<T>, message: T): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: withEncoded((writer) => fns.encode(message, writer), (bytes) => Buffer.from(bytes)) };
}

/** Everything comes over the one ADS stream: RDS, EDS and SDS alike. */
export function adsConfigSource(): ConfigSource {
  return ConfigSource.fromPartial({ ads: {}, resourceApiVersion: ApiVersion.V3 });
}

export function durationFromMs(ms: number): Duration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/**
 * Knative's appendHeaders replace what the client sent, so a client cannot spoof e.g. Knative-Serving-Revision. Their
 * values are literal; Envoy reads a set header's value as a format string, where `%` starts a command (a lone `%`
 * makes it reject the whole route table), so `%` is written `%%`.
 */
export function overwriteHeaders(headers: ReadonlyMap<string, string>): HeaderValueOption[] {
  return [...headers].map(([key, value]) =>
    HeaderValueOption.fromPartial({ header: { key, value: value.replaceAll('%', '%%') }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD }),
  );
}
