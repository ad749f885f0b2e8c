import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_ROLES } from '../../src/xds/roles.js';
import { goldenCases, renderCase, type RoleJson } from './golden-render.js';

const ENVOY = resolve(import.meta.dirname, '../../.venv/bin/envoy');
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const run = promisify(execFile);
const workDir = mkdtempSync(join(tmpdir(), 'ferry-envoy-validate-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

type Json = Record<string, any>;

/**
 * The gateway's resources as one static bootstrap, for `envoy --mode validate` only: the route table
 * inlined where the listener names it over RDS, the endpoints inlined where the cluster reads EDS, the
 * secrets static where filter chains name them over SDS. Everything else is byte-for-byte what Ferry serves.
 */
function staticBootstrap(resources: RoleJson): Json {
  const routes = new Map(resources.routes.map((r) => [r.name as string, r]));
  const endpoints = new Map(resources.endpoints.map((e) => [e.clusterName as string, e]));
  const untyped = ({ '@type': _, ...rest }: Json) => rest;
  const listeners = structuredClone(resources.listeners).map((listener: Json) => {
    for (const chain of listener.filterChains ?? []) {
      for (const filter of chain.filters ?? []) {
        const manager = filter.typedConfig;
        if (manager?.['@type'] !== HCM_TYPE) continue;
        const routeConfig = routes.get(manager.rds.routeConfigName);
        if (!routeConfig) throw new Error(`listener ${listener.name} names route configuration ${manager.rds.routeConfigName}, which Ferry did not emit`);
        delete manager.rds;
        manager.routeConfig = untyped(routeConfig);
      }
      const tls = chain.transportSocket?.typedConfig;
      if (tls?.['@type'] === TLS_CONTEXT_TYPE) {
        for (const sds of tls.commonTlsContext.tlsCertificateSdsSecretConfigs) delete sds.sdsConfig;
      }
    }
    return untyped(listener);
  });
  const clusters = structuredClone(resources.clusters).map((cluster: Json) => {
    if (cluster.type !== 'EDS') return untyped(cluster);
    const { edsClusterConfig, ...rest } = untyped(cluster);
    const assignment = endpoints.get(edsClusterConfig.serviceName);
    if (!assignment) throw new Error(`cluster ${cluster.name} reads EDS ${edsClusterConfig.serviceName}, which Ferry did not emit`);
    return { ...rest, type: 'STATIC', loadAssignment: untyped(assignment) };
  });
  return {
    node: { id: 'validate', cluster: 'validate' },
    staticResources: { listeners, clusters, secrets: resources.secrets.map(untyped) },
  };
}

describe('Envoy accepts the translated resources', () => {
  if (!existsSync(ENVOY)) throw new Error(`${ENVOY} is missing: run \`make test\`, which installs Envoy`);
  for (const caseName of goldenCases()) {
    it(caseName, async () => {
      const rendered = renderCase(caseName);
      for (const role of GATEWAY_ROLES) {
        const file = join(workDir, `${caseName}-${role}.json`);
        writeFileSync(file, JSON.stringify(staticBootstrap(rendered.roles[role].resources)));
        const result = await run(ENVOY, ['--mode', 'validate', '-c', file, '-l', 'error', '--base-id-path', join(workDir, `${caseName}-${role}.base-id`), '--use-dynamic-base-id']).catch(
          (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }),
        );
        // Envoy exits 0 even when validation fails; only this line means success.
        expect(`${result.stdout}${result.stderr}`, `${caseName} (${role})`).toMatch(/^configuration '.*' OK$/m);
      }
    });
  }
});
