import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../translate/envoy/index.js';
import { parseHostPort, parsePort, UsageError } from './args.js';

/** The flags that shape the Envoy resources, shared by `ferry serve` and `ferry validate --diff` so both translate alike. */
export const TRANSLATE_FLAG_OPTIONS = {
  'external-http-port': { type: 'string', default: String(DEFAULT_TRANSLATE_CONFIG.ports.external.http) },
  'external-https-port': { type: 'string', default: String(DEFAULT_TRANSLATE_CONFIG.ports.external.https) },
  'local-http-port': { type: 'string', default: String(DEFAULT_TRANSLATE_CONFIG.ports.local.http) },
  'local-https-port': { type: 'string', default: String(DEFAULT_TRANSLATE_CONFIG.ports.local.https) },
  'listen-address': { type: 'string', default: DEFAULT_TRANSLATE_CONFIG.bindAddress },
  'default-certificate': { type: 'string' },
  activator: { type: 'string', default: 'knative-serving/activator-service' },
  'route-tables': { type: 'string', default: DEFAULT_TRANSLATE_CONFIG.routeTables },
  'route-table-shards': { type: 'string', default: String(DEFAULT_TRANSLATE_CONFIG.routeTableShards) },
  'local-gateway': { type: 'string' },
  clusters: { type: 'string', default: DEFAULT_TRANSLATE_CONFIG.clusters },
  envoy: { type: 'string', default: 'managed' },
} as const;

export const TRANSLATE_FLAGS_USAGE = `  --external-http-port PORT  (default 8080)     --external-https-port PORT (default 8443)
  --local-http-port PORT     (default 8081)     --local-https-port PORT    (default 8444)
  --listen-address ADDR      address the gateway listeners bind to (default 0.0.0.0)
  --default-certificate NS/NAME  TLS Secret served to clients whose SNI matches no host
  --activator NS/NAME        the activator Service for scale-to-zero fallback (default knative-serving/activator-service)
  --route-tables scoped|sharded|single  one route table per KIngress chosen by Host over SRDS (default scoped: a
                             change sends Envoy one small table; Host matching is case-sensitive); sharded: chosen by
                             Host as scoped, KIngresses grouped into --route-table-shards tables (less Envoy memory, a
                             change sends one shard); or single: one table per listener
  --route-table-shards N     sharded route tables: tables per kind (default ${DEFAULT_TRANSLATE_CONFIG.routeTableShards}, ~40 KIngresses each at 10k)
  --clusters all|on-demand   all: every gateway holds every revision's cluster (default); on-demand: a gateway on
                             delta xDS loads a revision's cluster on the first request to it (Envoy's on-demand CDS;
                             ~18 KB of gateway memory per cluster saved for revisions without traffic; the first
                             request waits for one round trip to Ferry, and while Ferry is down, revisions not
                             loaded yet answer 503)
  --local-gateway HOST:PORT  where gateways reach the local gateway's HTTP listener for DomainMappings (default: the
                             managed Envoy's local listener; with --envoy none ferry-internal.ferry-system.svc.cluster.local:80)
`;

export interface TranslateFlagValues {
  'external-http-port': string;
  'external-https-port': string;
  'local-http-port': string;
  'local-https-port': string;
  'listen-address': string;
  'default-certificate'?: string;
  activator: string;
  'route-tables': string;
  'route-table-shards': string;
  'local-gateway'?: string;
  clusters: string;
  envoy: string;
}

export function translateConfigFromFlags(values: TranslateFlagValues): TranslateConfig {
  if (values.envoy !== 'managed' && values.envoy !== 'none') throw new UsageError(`--envoy ${values.envoy}: expected managed or none`);
  const localHttpPort = parsePort('--local-http-port', values['local-http-port']);
  return {
    ...DEFAULT_TRANSLATE_CONFIG,
    // A managed Envoy serves both roles: DomainMappings reach the local gateway on its own listener.
    localGateway: values['local-gateway'] ? parseHostPort('--local-gateway', values['local-gateway'])
      : values.envoy === 'managed' ? { host: '127.0.0.1', port: localHttpPort } : DEFAULT_TRANSLATE_CONFIG.localGateway,
    bindAddress: values['listen-address'],
    ports: {
      external: { http: parsePort('--external-http-port', values['external-http-port']), https: parsePort('--external-https-port', values['external-https-port']) },
      local: { http: localHttpPort, https: parsePort('--local-https-port', values['local-https-port']) },
    },
    activator: parseObjectRef('--activator', values.activator),
    defaultCertificate: values['default-certificate'] ? parseObjectRef('--default-certificate', values['default-certificate']) : undefined,
    routeTables: parseRouteTables(values['route-tables']),
    routeTableShards: parseRouteTableShards(values['route-table-shards']),
    clusters: parseClusters(values.clusters),
  };
}

export function parseRouteTables(value: string): TranslateConfig['routeTables'] {
  if (value !== 'scoped' && value !== 'sharded' && value !== 'single') throw new UsageError(`--route-tables ${value}: expected scoped, sharded or single`);
  return value;
}

export function parseClusters(value: string): TranslateConfig['clusters'] {
  if (value !== 'all' && value !== 'on-demand') throw new UsageError(`--clusters ${value}: expected all or on-demand`);
  return value;
}

export function parseRouteTableShards(value: string): number {
  const shards = Number(value);
  if (!Number.isInteger(shards) || shards < 1 || shards > 65536) throw new UsageError(`--route-table-shards ${value}: expected a whole number from 1 to 65536`);
  return shards;
}

function parseObjectRef(flag: string, value: string): { namespace: string; name: string } {
  const [namespace, name, extra] = value.split('/');
  if (!namespace || !name || extra !== undefined) throw new UsageError(`${flag} ${value}: expected NAMESPACE/NAME`);
  return { namespace, name };
}
