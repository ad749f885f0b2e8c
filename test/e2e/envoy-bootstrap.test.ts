import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBootstrapTemplate, renderBootstrap, type BootstrapValues, type XdsMode } from '../../src/envoy/bootstrap.js';
import { resolveEnvoyBinary } from '../../src/envoy/managed-envoy.js';

const values: BootstrapValues = { nodeId: 'gateway-0', role: 'both', xdsAddress: 'ferry.knative-serving.svc', xdsPort: 18000, adminPort: 9901 };
const workDir = mkdtempSync(join(tmpdir(), 'ferry-bootstrap-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('gateway bootstrap templates', () => {
  it.each<[XdsMode, string]>([['delta', 'DELTA_GRPC'], ['sotw', 'GRPC']])('%s renders node, xDS and loopback admin', (mode, apiType) => {
    const doc = parse(renderBootstrap(loadBootstrapTemplate(mode), values));
    expect(doc.node).toEqual({ id: 'gateway-0', cluster: 'both' });
    expect(doc.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 9901 });
    expect(doc.dynamic_resources.ads_config.api_type).toBe(apiType);
    expect(doc.dynamic_resources.lds_config).toEqual({ ads: {}, resource_api_version: 'V3' });
    expect(doc.dynamic_resources.cds_config).toEqual({ ads: {}, resource_api_version: 'V3' });
    const xds = doc.static_resources.clusters[0];
    expect(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: 'ferry.knative-serving.svc', port_value: 18000 });
    expect(xds.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options).toBeDefined();
  });

  it('quotes values so that any node id stays one YAML string', () => {
    const doc = parse(renderBootstrap(loadBootstrapTemplate('delta'), { ...values, nodeId: 'a: b # "c"' }));
    expect(doc.node.id).toBe('a: b # "c"');
  });

  it('refuses a non-loopback admin address, a bad role, a bad port and unknown placeholders', () => {
    const template = loadBootstrapTemplate('delta');
    expect(() => renderBootstrap(template, { ...values, adminAddress: '0.0.0.0' })).toThrow(/adminAddress "0.0.0.0" is not a loopback address/);
    expect(() => renderBootstrap(template, { ...values, role: 'internal' as never })).toThrow(/role "internal" is not one of external, local, both/);
    expect(() => renderBootstrap(template, { ...values, xdsPort: 0 })).toThrow(/xdsPort 0 is not a valid port/);
    expect(() => renderBootstrap(`${template}\nx: \${OTHER}`, values)).toThrow(/unknown placeholders \$\{OTHER\}/);
  });

  it.each<XdsMode>(['delta', 'sotw'])('%s is accepted by the real Envoy (--mode validate)', async (mode) => {
    const path = join(workDir, `${mode}.yaml`);
    writeFileSync(path, renderBootstrap(loadBootstrapTemplate(mode), { ...values, xdsAddress: '127.0.0.1' }));
    const { stdout, stderr } = await promisify(execFile)(resolveEnvoyBinary(), ['--mode', 'validate', '-c', path, '--use-dynamic-base-id']);
    expect(`${stdout}${stderr}`).toMatch(/configuration .* OK/);
  });
});
