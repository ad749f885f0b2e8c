import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { repositoryRoot, type XdsMode } from '../envoy/bootstrap.js';
import { Ferry, type FerrySourceOptions } from '../serve/ferry.js';
import { HELPER_THREADS_NICENESS, lowerHelperThreadPriority } from '../serve/thread-priority.js';
import { collectGarbageAfterBursts, collectGarbageOnceSynced, releaseMemory } from './collect-after-sync.js';
import { limitHeapGrowth } from './heap-growth.js';
import { parseHostPort, parsePort, UsageError, withEnvironmentDefaults } from './args.js';
import type { XdsTlsFiles } from '../xds/tls-credentials.js';
import { TRANSLATE_FLAG_OPTIONS, TRANSLATE_FLAGS_USAGE, translateConfigFromFlags } from './translate-flags.js';

export const SERVE_USAGE = `Usage: ferry serve [flags]

Runs the control plane: reads Knative manifests from a directory (files mode) or a Kubernetes API server (kube
mode), serves them to Envoy over xDS, and by default runs a local gateway Envoy that serves both roles.
Every flag can also be set as an environment variable FERRY_<FLAG> (e.g. FERRY_ROUTE_TABLES=single); a flag wins.

Flags:
  --source files|kube        where the desired state comes from (default files)
  --manifests DIR            files mode: manifests to serve (default: the bundled examples/hello)
  --kubeconfig PATH          kube mode: the cluster to read (default: the Pod's service account)
  --system-namespace NS      kube mode: Ferry's namespace (its Lease, config-ferry, gateway Services; default
                             $POD_NAMESPACE, else ferry-system)
  --pod-name NAME            kube mode: this replica's name in the status-writer Lease (default $POD_NAME, else the host name)
  --knative-translation      kube mode: also read Knative Services, Routes, DomainMappings and ClusterDomainClaims and
                             translate them to KIngresses itself, for clusters without Knative Serving's controllers
  --lease-duration SECONDS   kube mode: how long the status-writer Lease holds without renewal (default 15)
  --status-writes-per-second N  kube mode: bound on KIngress status writes (default 100)
  --envoy managed|none       run a local Envoy (default managed), or the control plane alone
  --xds-mode delta|sotw      protocol of the managed Envoy (default delta)
  --xds-address HOST:PORT    xDS gRPC listen address (default 127.0.0.1:18000; unix:/PATH for a unix socket)
  --xds-tls-cert FILE        mutual TLS on the xDS port: the server certificate (PEM chain; with the next two, read
  --xds-tls-key FILE           again when the files change); its private key; and the CA that signs the gateways'
  --xds-tls-client-ca FILE     client certificates (a gateway without one is refused). With --envoy none.
  --admin-address HOST:PORT  Ferry's admin HTTP address (default 127.0.0.1:18001)
  --envoy-admin-port PORT    the managed Envoy's admin port on 127.0.0.1 (default 9901)
${TRANSLATE_FLAGS_USAGE}  --log-level LEVEL          trace|debug|info|warn|error (default info; FERRY_LOG_LEVEL)
  --log-format FORMAT        auto|text|json: Ferry's own log lines on stderr; auto is text on a terminal, JSON
                             lines otherwise (default auto; FERRY_LOG_FORMAT)
`;

export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: withEnvironmentDefaults({
      source: { type: 'string', default: 'files' },
      manifests: { type: 'string' },
      kubeconfig: { type: 'string' },
      'system-namespace': { type: 'string', default: process.env.POD_NAMESPACE ?? 'ferry-system' },
      'pod-name': { type: 'string', default: process.env.POD_NAME ?? hostname() },
      'knative-translation': { type: 'boolean', default: false },
      'lease-duration': { type: 'string', default: '15' },
      'status-writes-per-second': { type: 'string', default: '100' },
      'xds-mode': { type: 'string', default: 'delta' },
      'xds-address': { type: 'string', default: '127.0.0.1:18000' },
      'xds-tls-cert': { type: 'string' },
      'xds-tls-key': { type: 'string' },
      'xds-tls-client-ca': { type: 'string' },
      'admin-address': { type: 'string', default: '127.0.0.1:18001' },
      'envoy-admin-port': { type: 'string', default: '9901' },
      ...TRANSLATE_FLAG_OPTIONS,
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }),
  });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  if (values['xds-mode'] !== 'delta' && values['xds-mode'] !== 'sotw') throw new UsageError(`--xds-mode ${values['xds-mode']}: expected delta or sotw`);
  const logger = createLogger({ level: values['log-level'], format: values['log-format'] });
  const translateConfig = translateConfigFromFlags(values);
  if (translateConfig.clusters === 'on-demand' && values.envoy !== 'none' && values['xds-mode'] === 'sotw') {
    throw new UsageError('--clusters on-demand needs the managed Envoy on delta xDS (Envoy asks for clusters on demand over delta xDS only): drop --xds-mode sotw, or use --clusters all');
  }
  const ferry = new Ferry({
    source: sourceFromFlags(values),
    xdsAddress: values['xds-address'],
    xdsTls: xdsTlsFromFlags(values),
    adminAddress: parseHostPort('--admin-address', values['admin-address']),
    translateConfig,
    envoy: values.envoy === 'none' ? 'none' : { mode: values['xds-mode'] as XdsMode, adminPort: parsePort('--envoy-admin-port', values['envoy-admin-port']) },
    logger,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    ferry.stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'error while stopping');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (values.envoy !== 'none') {
    // The managed Envoy serves traffic and applies what Ferry sends: Ferry's background threads give it the CPU first.
    const lowered = lowerHelperThreadPriority();
    logger.debug({ threads: lowered.length, niceness: HELPER_THREADS_NICENESS }, 'Ferry\'s helper threads run at a lower priority than its Envoy');
  }
  await ferry.start();
  const synced = (): boolean => ferry.view.synced().synced;
  const release = async (message: string): Promise<void> => {
    const started = process.cpuUsage();
    await releaseMemory();
    const { user, system } = process.cpuUsage(started);
    logger.info({ cpuMs: Math.round((user + system) / 1000), rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20) }, message);
  };
  collectGarbageOnceSynced(ferry.xds, synced, () => {
    limitHeapGrowth();
    void release('gateways in sync: the first pass\'s garbage collected and memory given back').then(() => {
      collectGarbageAfterBursts(ferry.reconciler, synced, () => release('quiet after a burst of changes: garbage collected and memory given back'));
    });
  });
  const ports = translateConfig.ports;
  logger.info(`ready: try  curl -H "Host: hello.default.example.com" localhost:${ports.external.http}   (admin: http://127.0.0.1:${ferry.adminPort}/debug/status)`);
}

function sourceFromFlags(values: {
  source?: string; manifests?: string; kubeconfig?: string; 'system-namespace'?: string; 'pod-name'?: string;
  'knative-translation'?: boolean; 'lease-duration'?: string; 'status-writes-per-second'?: string;
}): FerrySourceOptions {
  if (values.source === 'files') return { kind: 'files', manifests: resolve(values.manifests ?? resolve(repositoryRoot(), 'examples', 'hello')) };
  if (values.source !== 'kube') throw new UsageError(`--source ${values.source}: expected files or kube`);
  if (values.manifests) throw new UsageError('--manifests is for --source files; in kube mode Ferry reads the API server');
  const leaseSeconds = positiveNumber('--lease-duration', values['lease-duration']!);
  return {
    kind: 'kube', kubeconfig: values.kubeconfig, systemNamespace: values['system-namespace']!, knativeTranslation: values['knative-translation'],
    status: {
      identity: values['pod-name']!,
      // client-go's proportions: renew deadline 2/3 and retry period 2/15 of the Lease's duration.
      leaseDurationMs: leaseSeconds * 1000, renewDeadlineMs: leaseSeconds * 667, retryPeriodMs: leaseSeconds * 133,
      writesPerSecond: positiveNumber('--status-writes-per-second', values['status-writes-per-second']!),
    },
  };
}

function xdsTlsFromFlags(values: { 'xds-tls-cert'?: string; 'xds-tls-key'?: string; 'xds-tls-client-ca'?: string }): XdsTlsFiles | undefined {
  const files = { cert: values['xds-tls-cert'], key: values['xds-tls-key'], clientCa: values['xds-tls-client-ca'] };
  const given = Object.values(files).filter((file) => file !== undefined && file !== '').length;
  if (given === 0) return undefined;
  if (given < 3) throw new UsageError('--xds-tls-cert, --xds-tls-key and --xds-tls-client-ca go together: mutual TLS needs the server certificate, its key and the client CA');
  return { cert: resolve(files.cert!), key: resolve(files.key!), clientCa: resolve(files.clientCa!) };
}

function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} ${value}: expected a positive number`);
  return n;
}
