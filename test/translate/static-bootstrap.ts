import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ENVOY = resolve(import.meta.dirname, '../../.venv/bin/envoy');
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const run = promisify(execFile);

type Json = Record<string, any>;

/** One gateway role's resources as JSON (resourceToJson), by kind; scopedroutes only with scoped route tables. */
export interface StaticResources {
  listeners: Json[];
  routes: Json[];
  clusters: Json[];
  endpoints: Json[];
  secrets: Json[];
  scopedroutes?: Json[];
}

/**
 * The gateway's resources as one static bootstrap, for `envoy --mode validate` only: the route table inlined where
 * the listener names it over RDS (or, with scoped route tables, each scope inlined with its route table; clusters
 * checked as over RDS), the
 * endpoints inlined where the cluster reads EDS, the secrets static where filter chains name them over SDS.
 * Everything else is byte-for-byte what Ferry serves.
 */
export function staticBootstrap(resources: StaticResources): Json {
  const routes = new Map(resources.routes.map((r) => [r.name as string, r]));
  const endpoints = new Map(resources.endpoints.map((e) => [e.clusterName as string, e]));
  const untyped = ({ '@type': _, ...rest }: Json) => rest;
  const routeTable = (listener: Json, name: string): Json => {
    const routeConfig = routes.get(name);
    if (!routeConfig) throw new Error(`listener ${listener.name} names route configuration ${name}, which Ferry did not emit`);
    // As over RDS (where validate_clusters defaults to false): a route to a cluster not served answers 503, it is no error.
    return { ...untyped(routeConfig), validateClusters: false };
  };
  const listeners = structuredClone(resources.listeners).map((listener: Json) => {
    for (const chain of listener.filterChains ?? []) {
      for (const filter of chain.filters ?? []) {
        const manager = filter.typedConfig;
        if (manager?.['@type'] !== HCM_TYPE) continue;
        if (manager.rds) {
          manager.routeConfig = routeTable(listener, manager.rds.routeConfigName);
          delete manager.rds;
        } else if (manager.scopedRoutes?.scopedRds) {
          const scopes = (resources.scopedroutes ?? []).map(({ routeConfigurationName, ...scope }) => ({ ...untyped(scope), routeConfiguration: routeTable(listener, routeConfigurationName) }));
          // Over SRDS no scope is fine (every request gets 404); a static list must hold one, so no scope is no route.
          if (scopes.length === 0) {
            delete manager.scopedRoutes;
            manager.routeConfig = {};
          } else {
            delete manager.scopedRoutes.scopedRds;
            manager.scopedRoutes.scopedRouteConfigurationsList = { scopedRouteConfigurations: scopes };
          }
        }
      }
      const tls = chain.transportSocket?.typedConfig;
      if (tls?.['@type'] === TLS_CONTEXT_TYPE) {
        for (const sds of tls.commonTlsContext.tlsCertificateSdsSecretConfigs) delete sds.sdsConfig;
      }
    }
    return untyped(listener);
  });
  const clusters = structuredClone(resources.clusters).map((cluster: Json) => {
    // An upstream TLS context's CA (system-internal-tls) comes over SDS too: static here.
    const validation = cluster.transportSocket?.typedConfig?.commonTlsContext?.combinedValidationContext?.validationContextSdsSecretConfig;
    if (validation) delete validation.sdsConfig;
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

/**
 * Runs `envoy --mode validate` on a bootstrap written to `<workDir>/<name>.json`: Envoy's own words when it rejects
 * it, undefined when it accepts it (Envoy exits 0 either way; only its "OK" line means success).
 */
export async function envoyRejects(bootstrap: Json, workDir: string, name: string): Promise<string | undefined> {
  if (!existsSync(ENVOY)) throw new Error(`${ENVOY} is missing: run \`make test\`, which installs Envoy`);
  const file = join(workDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(bootstrap));
  const result = await run(ENVOY, ['--mode', 'validate', '-c', file, '-l', 'error', '--base-id-path', join(workDir, `${name}.base-id`), '--use-dynamic-base-id'], { maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }),
  );
  const output = `${result.stdout}${result.stderr}`;
  return /^configuration '.*' OK$/m.test(output) ? undefined : output;
}
