import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_OPTIONS, parseGatewayOptions, parseGoDuration } from '../../src/model/gateway-options.js';
import { validateConfigMap } from '../../src/model/validate-kube.js';
import { parseManifests } from '../../src/sources/parse-manifests.js';

const problemsOf = (data: Record<string, string>) => parseGatewayOptions(data).problems.map((p) => `${p.field}: ${p.message}`);

describe('gateway options (config-ferry)', () => {
  it('an absent or empty ConfigMap gives the defaults; FERRY_* process flags and _example keys are not options', () => {
    expect(parseGatewayOptions(undefined)).toEqual({ value: DEFAULT_GATEWAY_OPTIONS, problems: [] });
    expect(parseGatewayOptions({ FERRY_ROUTE_TABLES: 'single', _example: 'anything', 'access-log': '' })).toEqual({ value: DEFAULT_GATEWAY_OPTIONS, problems: [] });
  });

  it('reads every option', () => {
    const { value, problems } = parseGatewayOptions({
      'access-log': 'JSON', 'access-log-format': '{"code": "%RESPONSE_CODE%", "host": "%REQ(:AUTHORITY)%"}', 'stream-idle-timeout': '1m30s',
      'max-request-headers-kb': '96', 'max-connections': '500', 'use-remote-address': 'true', 'trusted-hops-count': '2',
      'server-header': 'my gateway', 'tls-min-version': 'TLSv1.2', 'tls-max-version': '1.3', 'cipher-suites': 'ECDHE-ECDSA-AES128-GCM-SHA256, AES128-SHA',
      'listen-addresses': '0.0.0.0, ::', 'ext-authz-host': '[fd00::7]:9000', 'ext-authz-protocol': 'HTTP', 'ext-authz-timeout': '250ms',
      'ext-authz-failure-mode-allow': 'true', 'ext-authz-max-request-bytes': '4096', 'ext-authz-path-prefix': '/check', 'proxy-protocol': 'true',
    });
    expect(problems).toEqual([]);
    expect(value).toEqual({
      accessLog: { format: 'json', fields: { code: '%RESPONSE_CODE%', host: '%REQ(:AUTHORITY)%' } }, streamIdleTimeoutMs: 90_000,
      maxRequestHeadersKb: 96, maxConnections: 500, useRemoteAddress: true, trustedHopsCount: 2, serverHeader: { mode: 'fixed', value: 'my gateway' },
      tls: { minVersion: '1.2', maxVersion: '1.3', cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'AES128-SHA'] }, listenAddresses: ['0.0.0.0', '::'],
      extAuthz: { host: 'fd00::7', port: 9000, protocol: 'http', timeoutMs: 250, failureModeAllow: true, maxRequestBytes: 4096, pathPrefix: '/check' }, proxyProtocol: true,
    });
    // The host alone: gRPC, 2 s, fail closed, no body (net-kourier's defaults but the body, which would hold streams).
    expect(parseGatewayOptions({ 'ext-authz-host': 'authz.auth-system.svc:9000' }).value.extAuthz).toEqual({
      host: 'authz.auth-system.svc', port: 9000, protocol: 'grpc', timeoutMs: 2_000, failureModeAllow: false, maxRequestBytes: undefined, pathPrefix: undefined,
    });
  });

  it('durations as Go writes them', () => {
    expect(['0', '0s', '300s', '5m', '1h30m', '1.5s', '250ms'].map(parseGoDuration)).toEqual([0, 0, 300_000, 300_000, 5_400_000, 1_500, 250]);
    expect(() => parseGoDuration('5')).toThrow(/not a duration/);
    expect(() => parseGoDuration('-1s')).toThrow(/not a duration/);
  });

  it.each([
    [{ 'access-log': 'yes' }, 'data.access-log: "yes" is not one of off, text, json'],
    [{ 'access-log': 'text', 'access-log-format': '%START_TIME% 100% done' }, 'data.access-log-format: "%" at character 17 starts no command operator'],
    [{ 'access-log': 'json', 'access-log-format': '["%START_TIME%"]' }, 'data.access-log-format: must be a JSON object'],
    [{ 'access-log': 'json', 'access-log-format': '{"code": 200}' }, 'data.access-log-format: field "code" must be a string'],
    [{ 'access-log-format': '%START_TIME%' }, 'data.access-log-format: access logs are off'],
    [{ 'stream-idle-timeout': '10' }, 'data.stream-idle-timeout: "10" is not a duration'],
    [{ 'max-request-headers-kb': '9000' }, 'data.max-request-headers-kb: "9000" is not a whole number from 1 to 8192'],
    [{ 'max-connections': '0' }, 'data.max-connections: "0" is not a whole number from 1'],
    [{ 'use-remote-address': 'yes' }, 'data.use-remote-address: "yes" is not one of true, false'],
    [{ 'trusted-hops-count': '-1' }, 'data.trusted-hops-count: "-1" is not a whole number'],
    [{ 'server-header': 'bad\u0001value' }, 'data.server-header: "bad\u0001value" is not a valid header value'],
    [{ 'tls-min-version': '1.4' }, 'data.tls-min-version: "1.4" is not one of 1.0, 1.1, 1.2, 1.3'],
    [{ 'tls-min-version': '1.3', 'tls-max-version': '1.2' }, 'data.tls-min-version: 1.3 is above tls-max-version 1.2'],
    [{ 'cipher-suites': 'ECDHE-ECDSA-AES128-GCM-SHA256,RC4-MD5' }, 'data.cipher-suites: unknown cipher suite RC4-MD5'],
    [{ 'listen-addresses': '0.0.0.0,localhost' }, 'data.listen-addresses: "localhost" is not an IP address'],
    [{ 'acces-log': 'text' }, 'data.acces-log: not a gateway option; known keys: access-log,'],
    [{ 'ext-authz-host': 'http://authz:9000' }, 'data.ext-authz-host: "http://authz:9000" is a URL; write host:port'],
    [{ 'ext-authz-host': 'authz' }, 'data.ext-authz-host: "authz" is not a host and port'],
    [{ 'ext-authz-host': 'authz:9000', 'ext-authz-protocol': 'soap' }, 'data.ext-authz-protocol: "soap" is not one of grpc, http'],
    [{ 'ext-authz-host': 'authz:9000', 'ext-authz-timeout': '0s' }, 'data.ext-authz-timeout: must be longer than 0'],
    [{ 'ext-authz-host': 'authz:9000', 'ext-authz-failure-mode-allow': 'maybe' }, 'data.ext-authz-failure-mode-allow: "maybe" is not one of true, false'],
    [{ 'ext-authz-host': 'authz:9000', 'ext-authz-max-request-bytes': '0' }, 'data.ext-authz-max-request-bytes: "0" is not a whole number from 1'],
    [{ 'ext-authz-host': 'authz:9000', 'ext-authz-protocol': 'http', 'ext-authz-path-prefix': 'check' }, 'data.ext-authz-path-prefix: "check" is not a path prefix'],
    [{ 'ext-authz-host': 'authz:9000', 'ext-authz-path-prefix': '/check' }, 'data.ext-authz-path-prefix: a gRPC check has no path'],
    [{ 'ext-authz-failure-mode-allow': 'true' }, 'data.ext-authz-failure-mode-allow: external authorization is off: set ext-authz-host'],
    [{ 'proxy-protocol': 'v2' }, 'data.proxy-protocol: "v2" is not one of true, false'],
  ])('%j is refused naming its key', (data, message) => {
    expect(problemsOf(data as Record<string, string>).join('\n')).toContain(message);
  });

  it('validation of the ConfigMap names the key; files mode reads config-ferry in ferry-system only', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap' as const, metadata: { name: 'config-ferry', namespace: 'ferry-system' }, data: { 'server-header': '' , 'max-connections': 'many' } };
    expect(validateConfigMap(configMap).map((e) => `${e.field}: ${e.message}`)).toEqual(['data.max-connections: "many" is not a whole number from 1 to 4294967295']);
    const yaml = (namespace: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-ferry, namespace: ${namespace}}\ndata: {access-log: text}\n`;
    expect(parseManifests(yaml('ferry-system'), 'c.yaml', 'default').objects.map((o) => o.id)).toEqual(['ConfigMap:ferry-system/config-ferry']);
    const elsewhere = parseManifests(yaml('default'), 'c.yaml', 'default');
    expect(elsewhere.objects).toEqual([]);
    expect(elsewhere.problems[0]?.message).toMatch(/Ferry reads only the ConfigMaps .*ferry-system\/config-ferry; ignored/);
  });
});
