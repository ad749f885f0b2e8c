import { describe, expect, it } from 'vitest';
import { parseGatewayOptions } from '../../src/model/gateway-options.js';

describe('tracing options of config-ferry', () => {
  it('are off by default; an address turns them on with OTLP/gRPC, every request, service ferry-gateway', () => {
    expect(parseGatewayOptions({}).value.tracing).toBeUndefined();
    expect(parseGatewayOptions({ 'tracing-otlp-address': 'otel-collector.observability.svc:4317' })).toEqual({
      value: expect.objectContaining({ tracing: { host: 'otel-collector.observability.svc', port: 4317, protocol: 'grpc', path: '/v1/traces', samplingPercent: 100, serviceName: 'ferry-gateway' } }),
      problems: [],
    });
  });

  it('read every key: IPv6 in brackets, config-kourier\'s http/protobuf, a rate as a fraction or a percentage', () => {
    const parsed = parseGatewayOptions({ 'tracing-otlp-address': '[::1]:4318', 'tracing-otlp-protocol': 'http/protobuf', 'tracing-otlp-path': '/otlp/v1/traces', 'tracing-sampling-rate': '0.125', 'tracing-service-name': 'edge gateway' });
    expect(parsed.problems).toEqual([]);
    expect(parsed.value.tracing).toEqual({ host: '::1', port: 4318, protocol: 'http', path: '/otlp/v1/traces', samplingPercent: 12.5, serviceName: 'edge gateway' });
    expect(parseGatewayOptions({ 'tracing-otlp-address': '10.0.0.9:4317', 'tracing-sampling-rate': '2.5%' }).value.tracing?.samplingPercent).toBe(2.5);
    expect(parseGatewayOptions({ 'tracing-otlp-address': '10.0.0.9:4317', 'tracing-sampling-rate': '0' }).value.tracing?.samplingPercent).toBe(0);
  });

  it('refuse a bad value naming its key, and options without an address', () => {
    const problems = (data: Record<string, string>) => parseGatewayOptions(data).problems.map((p) => `${p.field}: ${p.message}`);
    expect(problems({ 'tracing-otlp-address': 'http://collector:4318/v1/traces' })).toEqual(['data.tracing-otlp-address: "http://collector:4318/v1/traces" is a URL; write host:port, e.g. otel-collector.observability.svc:4317 or [::1]:4317 (the protocol is tracing-otlp-protocol, the path tracing-otlp-path)']);
    expect(problems({ 'tracing-otlp-address': 'collector' })[0]).toMatch(/^data\.tracing-otlp-address: "collector" is not a host and port/);
    expect(problems({ 'tracing-otlp-address': 'collector:70000' })[0]).toMatch(/^data\.tracing-otlp-address: "collector:70000" is not a host and port/);
    expect(problems({ 'tracing-otlp-address': '[fe80::zz]:4317' })[0]).toMatch(/^data\.tracing-otlp-address: "\[fe80::zz\]:4317" is not a host and port/);
    expect(problems({ 'tracing-otlp-address': 'c:1', 'tracing-otlp-protocol': 'zipkin' })).toEqual(['data.tracing-otlp-protocol: "zipkin" is not one of grpc, http']);
    expect(problems({ 'tracing-otlp-address': 'c:1', 'tracing-sampling-rate': '1.5' })).toEqual(['data.tracing-sampling-rate: "1.5" is not a sampling rate; write a fraction from 0 to 1 (0.25) or a percentage (25%)']);
    expect(problems({ 'tracing-otlp-address': 'c:1', 'tracing-sampling-rate': '101%' })[0]).toMatch(/^data\.tracing-sampling-rate: "101%" is not a sampling rate/);
    expect(problems({ 'tracing-otlp-address': 'c:1', 'tracing-otlp-path': '/v1/traces' })).toEqual(['data.tracing-otlp-path: OTLP over gRPC has no path: set tracing-otlp-protocol to http, or remove the path']);
    expect(problems({ 'tracing-otlp-address': 'c:1', 'tracing-otlp-protocol': 'http', 'tracing-otlp-path': 'v1/traces' })[0]).toMatch(/^data\.tracing-otlp-path: "v1\/traces" is not a path/);
    expect(problems({ 'tracing-sampling-rate': '0.5', 'tracing-service-name': 'x' })).toEqual([
      'data.tracing-sampling-rate: tracing is off: set tracing-otlp-address (host:port of an OpenTelemetry collector) too',
      'data.tracing-service-name: tracing is off: set tracing-otlp-address (host:port of an OpenTelemetry collector) too',
    ]);
    // A bad tracing key leaves tracing off in the parsed value (the ConfigMap as a whole is refused anyway).
    expect(parseGatewayOptions({ 'tracing-otlp-address': 'c:1', 'tracing-sampling-rate': 'all' }).value.tracing).toBeUndefined();
  });
});
