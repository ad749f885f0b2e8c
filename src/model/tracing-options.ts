import type { ConfigProblem } from './config.js';
import { parseHostPort } from './host-port.js';

/** Where the gateways send their spans: an OpenTelemetry collector, over OTLP/gRPC or OTLP/HTTP (protobuf). */
export interface TracingOptions {
  /** A DNS name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  protocol: 'grpc' | 'http';
  /** OTLP/HTTP only: the path spans are posted to. */
  path: string;
  /** The share of requests traced, 0 to 100 (Envoy's overall sampling). */
  samplingPercent: number;
  serviceName: string;
}

/** The tracing keys of config-ferry, in the order of the README's table. */
export const TRACING_OPTION_KEYS = ['tracing-otlp-address', 'tracing-otlp-protocol', 'tracing-otlp-path', 'tracing-sampling-rate', 'tracing-service-name'] as const;

export const DEFAULT_TRACING_SERVICE_NAME = 'ferry-gateway';
const ADDRESS_EXAMPLE = 'otel-collector.observability.svc:4317 or [::1]:4317 (the protocol is tracing-otlp-protocol, the path tracing-otlp-path)';
/** OTLP/HTTP's standard path for traces. */
export const DEFAULT_OTLP_TRACES_PATH = '/v1/traces';

/**
 * The tracing keys of config-ferry `data`: tracing is on when `tracing-otlp-address` is set; the other keys without it
 * are a mistake (they would silently do nothing). Every problem names its key.
 */
export function parseTracingOptions(data: Record<string, string>): { value: TracingOptions | undefined; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const text = (key: (typeof TRACING_OPTION_KEYS)[number]): string | undefined => {
    const value = data[key]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const parse = <T>(key: (typeof TRACING_OPTION_KEYS)[number], parser: (text: string) => T, fallback: T): T => {
    const value = text(key);
    if (value === undefined) return fallback;
    try {
      return parser(value);
    } catch (error) {
      problems.push({ field: `data.${key}`, message: (error as Error).message });
      return fallback;
    }
  };

  if (text('tracing-otlp-address') === undefined) {
    for (const key of TRACING_OPTION_KEYS) {
      if (text(key) !== undefined) problems.push({ field: `data.${key}`, message: 'tracing is off: set tracing-otlp-address (host:port of an OpenTelemetry collector) too' });
    }
    return { value: undefined, problems };
  }
  const address = parse('tracing-otlp-address', (value) => parseHostPort(value, ADDRESS_EXAMPLE), undefined);
  const protocol = parse('tracing-otlp-protocol', parseProtocol, 'grpc');
  const path = parse('tracing-otlp-path', parsePath, DEFAULT_OTLP_TRACES_PATH);
  if (protocol === 'grpc' && text('tracing-otlp-path') !== undefined) {
    problems.push({ field: 'data.tracing-otlp-path', message: 'OTLP over gRPC has no path: set tracing-otlp-protocol to http, or remove the path' });
  }
  const samplingPercent = parse('tracing-sampling-rate', parseSamplingRate, 100);
  const serviceName = parse('tracing-service-name', parseServiceName, DEFAULT_TRACING_SERVICE_NAME);
  if (!address || problems.length > 0) return { value: undefined, problems };
  return { value: { ...address, protocol, path, samplingPercent, serviceName }, problems };
}

/** grpc or http; config-kourier's `http/protobuf` is accepted for http. */
function parseProtocol(text: string): 'grpc' | 'http' {
  const value = text.toLowerCase();
  if (value === 'grpc') return 'grpc';
  if (value === 'http' || value === 'http/protobuf') return 'http';
  throw new Error(`"${text}" is not one of grpc, http`);
}

function parsePath(text: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(text) || /[?#]/.test(text)) throw new Error(`"${text}" is not a path; write it like /v1/traces`);
  return text;
}

/**
 * A fraction from 0 to 1 as config-kourier writes it (`0.25`), or a percentage (`25%`): both say a quarter of the
 * requests. The percentage keeps Envoy's precision (it takes a double).
 */
function parseSamplingRate(text: string): number {
  const percent = text.endsWith('%');
  const number = percent ? text.slice(0, -1).trim() : text;
  const value = /^\d+(\.\d+)?$/.test(number) ? Number(number) * (percent ? 1 : 100) : NaN;
  if (!(value >= 0 && value <= 100)) throw new Error(`"${text}" is not a sampling rate; write a fraction from 0 to 1 (0.25) or a percentage (25%)`);
  return Math.round(value * 1e6) / 1e6;
}

function parseServiceName(text: string): string {
  if (!/^[\x20-\x7e]+$/.test(text)) throw new Error(`"${text}" must be printable ASCII`);
  return text;
}
