import { resourceToJson } from '../translate/envoy/index.js';
import type { XdsResource } from '../xds/resource.js';

/** Envoy prints sensitive fields (private keys, passwords, session ticket keys) as this. */
export const REDACTED = '[redacted]';

/** Fields whose values are maps keyed by names of our choosing, not proto field names: keys stay as they are. */
const MAP_FIELDS = new Set(['typed_extension_protocol_options', 'filter_metadata', 'typed_filter_metadata', 'typed_per_filter_config', 'fields', 'typed_config_map']);

/** Fields that carry key material (annotated `sensitive` in Envoy's protos); Envoy redacts them in its own dumps. */
const SENSITIVE_FIELDS = new Set(['private_key', 'password', 'pkcs12', 'keys', 'secret', 'private_key_provider']);

/**
 * A resource as Envoy's /config_dump prints it: proto field names (snake_case), "@type" on Any, and every piece
 * of key material replaced by "[redacted]" whatever field or nesting it sits in.
 */
export function resourceToEnvoyJson(resource: Pick<XdsResource, 'typeUrl' | 'bytes'>): Record<string, unknown> {
  // Keys revealed here only to be redacted below in Envoy's own form, with every other piece of key material.
  return redact(snakeCaseKeys(resourceToJson(resource, { revealPrivateKeys: true }))) as Record<string, unknown>;
}

function snakeCaseKeys(value: unknown, keepKeys = false): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = keepKeys || key.startsWith('@') ? key : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    out[name] = snakeCaseKeys(item, MAP_FIELDS.has(name));
  }
  return out;
}

/** Replaces the value of every sensitive field: a DataSource keeps its shape, with the data redacted. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = SENSITIVE_FIELDS.has(key) ? redactedValue(item) : redact(item);
  return out;
}

function redactedValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactedValue);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    // Envoy's own form: bytes print as base64, so the redacted bytes print as base64 of "[redacted]".
    if ('inline_bytes' in source) return { inline_bytes: Buffer.from(REDACTED).toString('base64') };
    if ('inline_string' in source) return { inline_string: REDACTED };
    if ('@type' in source) return { '@type': source['@type'], redacted: REDACTED };
    return Object.fromEntries(Object.keys(source).map((key) => [key, REDACTED]));
  }
  return REDACTED;
}
