import type { Logger } from '../log.js';
import { AdminServer } from '../admin/server.js';
import { ManagedEnvoy } from '../envoy/managed-envoy.js';
import type { XdsMode } from '../envoy/bootstrap.js';
import { FerryMetrics } from '../metrics.js';
import type { ObjectKind } from '../model/kinds.js';
import { FilesSource } from '../sources/files.js';
import { KubeSource } from '../sources/kube/kube-source.js';
import type { Source, SourceProblem } from '../sources/source.js';
import { KubeClient } from '../kube/kube-client.js';
import { DEFAULT_LOAD_BALANCER_HOSTS, type LoadBalancerHosts } from '../status/load-balancers.js';
import { KubeStatus, type KubeStatusOptions } from './kube-status.js';
import { Store } from '../store/store.js';
import type { TranslateConfig } from '../translate/envoy/index.js';
import { SYSTEM_INTERNAL_CA } from '../translate/envoy/system-internal-tls.js';
import { isServiceClusterName } from '../translate/envoy/names.js';
import { XdsCache } from '../xds/cache.js';
import { NackStore } from '../xds/nacks.js';
import { XdsServer } from '../xds/server.js';
import type { XdsTlsFiles } from '../xds/tls-credentials.js';
import { FERRY_CONFIG_MAP, FERRY_SYSTEM_NAMESPACE } from '../model/gateway-options.js';
import { FerryView } from './ferry-view.js';
import { followGatewayOptions } from './gateway-options-feed.js';
import { Reconciler } from './reconciler.js';

const COUNTED_KINDS: readonly ObjectKind[] = ['KIngress', 'KnativeService', 'Route', 'DomainMapping', 'ClusterDomainClaim', 'Service', 'EndpointSlice', 'Secret', 'ConfigMap'];

/**
 * First-pass batch: big enough that Envoy gets few large updates, small enough that it starts early. At 10k
 * KIngresses (with the translation's event-loop turns every 10 ms): 1000 -> 6.66 s, 400 -> 6.45 s, 200 -> 6.56 s
 * (means of 4 cold starts each).
 */
export const FIRST_PASS_BATCH = 400;

/** Where desired state comes from: a folder of manifests, or a Kubernetes API server. */
export type FerrySourceOptions =
  | { kind: 'files'; manifests: string; watch?: boolean }
  | {
    kind: 'kube';
    /** A kubeconfig file; absent: the Pod's service account. */
    kubeconfig?: string;
    /** Ferry's namespace: its ConfigMap, its status-writer Lease, and its gateway Services' names. */
    systemNamespace: string;
    knativeTranslation?: boolean;
    /** Leader election and status writing (identity: the Pod's name). */
    status: Omit<KubeStatusOptions, 'client' | 'logger' | 'namespace'>;
    /** Informer knobs for tests. */
    watchTimeoutSeconds?: number;
  };

export interface FerryOptions {
  source: FerrySourceOptions;
  xdsAddress: string;
  /** Mutual TLS on the xDS port (certificate, key and client CA files, reloaded when they change); absent: plaintext. */
  xdsTls?: XdsTlsFiles;
  adminAddress: { host: string; port: number };
  translateConfig: TranslateConfig;
  /** Start a local gateway Envoy serving both roles, or run the control plane alone. */
  envoy: { mode: XdsMode; adminPort: number; bin?: string; logLevel?: 'info' | 'warning' | 'error' | 'debug' } | 'none';
  logger: Logger;
  metrics?: FerryMetrics;
  /** The reconciler's hold-off; none by default: the files source gathers a burst of file events already. */
  holdOffMs?: number;
  /** KIngresses per batch of the first pass (default FIRST_PASS_BATCH). */
  firstPassBatch?: number;
}

/**
 * `ferry serve` assembled: files source → store → reconciler (translate) → xDS cache → xDS server → Envoy,
 * plus the admin endpoints and, optionally, a managed local Envoy. Owns their start and stop order.
 */
export class Ferry {
  readonly store = new Store();
  readonly metrics: FerryMetrics;
  readonly cache: XdsCache;
  readonly nacks = new NackStore();
  readonly xds: XdsServer;
  readonly reconciler: Reconciler;
  readonly source: Source & { problems(): SourceProblem[] };
  /** The same source, by its kind. */
  readonly files: FilesSource | undefined;
  readonly kube: KubeSource | undefined;
  /** Kube mode: leader election and the KIngress status writer. */
  readonly kubeStatus: KubeStatus | undefined;
  readonly view: FerryView;
  readonly admin: AdminServer;
  envoy: ManagedEnvoy | undefined;
  xdsPort = 0;
  adminPort = 0;
  private synced = false;
  private readonly stopFollowingOptions: () => void;

  constructor(private readonly options: FerryOptions) {
    const { logger } = options;
    this.metrics = options.metrics ?? new FerryMetrics();
    this.cache = new XdsCache({ metrics: this.metrics, complete: false });
    this.xds = new XdsServer({ cache: this.cache, logger, metrics: this.metrics, nackStore: this.nacks, tls: options.xdsTls,
      onDemandCluster: options.translateConfig.clusters === 'on-demand' ? isServiceClusterName : undefined });
    this.reconciler = new Reconciler({ store: this.store, cache: this.cache, translateConfig: options.translateConfig, logger, metrics: this.metrics, holdOffMs: options.holdOffMs ?? 0 });
    const source = options.source;
    let loadBalancers: LoadBalancerHosts = DEFAULT_LOAD_BALANCER_HOSTS;
    if (source.kind === 'files') {
      this.source = this.files = new FilesSource({ directory: source.manifests, store: this.store, logger, watch: source.watch });
    } else {
      const client = KubeClient.load(source.kubeconfig);
      const { activator, defaultCertificate } = options.translateConfig;
      const kube = new KubeSource({
        client, store: this.store, logger, systemNamespace: source.systemNamespace, knativeTranslation: source.knativeTranslation,
        watchTimeoutSeconds: source.watchTimeoutSeconds, metrics: this.metrics,
        alwaysNeeded: {
          services: activator ? [`${activator.namespace}/${activator.name}`] : [],
          // Knative's data-plane CA, for config-network system-internal-tls (which can be turned on at any time).
          secrets: [...(defaultCertificate ? [`${defaultCertificate.namespace}/${defaultCertificate.name}`] : []), `${SYSTEM_INTERNAL_CA.namespace}/${SYSTEM_INTERNAL_CA.name}`],
        },
      });
      this.source = this.kube = kube;
      loadBalancers = gatewayServiceHosts(source.systemNamespace);
      this.kubeStatus = new KubeStatus({ ...source.status, client, logger, namespace: source.systemNamespace, metrics: this.metrics }, kube);
    }
    // Gateway options from config-ferry: kube mode reads it in the system namespace, files mode in ferry-system.
    const configNamespace = source.kind === 'kube' ? source.systemNamespace : FERRY_SYSTEM_NAMESPACE;
    this.stopFollowingOptions = followGatewayOptions(this.store, this.reconciler, `${configNamespace}/${FERRY_CONFIG_MAP}`, logger);
    this.view = new FerryView({ store: this.store, cache: this.cache, xds: this.xds, nacks: this.nacks, reconciler: this.reconciler, source: this.source, loadBalancers });
    this.kubeStatus?.connect({ reconciler: this.reconciler, xds: this.xds, view: this.view });
    this.admin = new AdminServer({ logger, metrics: this.metrics, providers: {
      notReadyReason: () => (this.synced ? undefined : 'sources have not synced yet'),
      configDump: (query) => this.view.configDump(query),
      status: () => this.view.status(),
      synced: () => this.view.synced(),
      objects: (kind) => this.view.objects(kind),
    } });
    this.source.on('problem', (problem) => this.metrics.errors.inc({ reason: problem.severity === 'warning' ? 'manifest_warning' : 'manifest_error' }));
    this.metrics.objects.readFrom(() => COUNTED_KINDS.map((kind) => [{ kind }, this.store.count(kind)] as const));
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    this.xdsPort = await this.xds.listen(this.options.xdsAddress);
    this.adminPort = (await this.admin.listen(this.options.adminAddress.host, this.options.adminAddress.port)).port;
    // The managed Envoy starts at once: it waits for what the first pass hands over, batch by batch, and builds
    // clusters and routes while Ferry still translates. Gateways never lose anything to an incomplete cache.
    // (A start failure is kept, not left unhandled, and thrown once the configuration is built.)
    const envoy = this.options.envoy !== 'none' ? this.startEnvoy(this.options.envoy).then(() => undefined, (err: unknown) => err) : undefined;
    const source = this.options.source;
    if (source.kind === 'files') logger.info({ directory: source.manifests }, 'loading manifests');
    else logger.info({ systemNamespace: source.systemNamespace, knativeTranslation: source.knativeTranslation ?? false }, 'listing from the API server');
    await this.source.start();
    await this.reconciler.startInBatches(this.options.firstPassBatch ?? FIRST_PASS_BATCH);
    this.cache.markComplete();
    this.synced = true;
    this.kubeStatus?.start();
    const state = this.reconciler.current();
    logger.info({ ingresses: state.ingresses.size, xdsPort: this.xdsPort, adminPort: this.adminPort }, 'configuration built; serving xDS');
    const failure = await envoy;
    if (failure !== undefined) throw failure;
  }

  async stop(): Promise<void> {
    await this.envoy?.stop();
    await this.kubeStatus?.stop();
    this.stopFollowingOptions();
    this.reconciler.stop();
    this.view.stop();
    await this.source.stop();
    await this.admin.close();
    await this.xds.close();
  }

  private async startEnvoy(envoy: Exclude<FerryOptions['envoy'], 'none'>): Promise<void> {
    if (this.options.xdsAddress.startsWith('unix:')) {
      throw new Error(`--xds-address ${this.options.xdsAddress}: the managed Envoy connects over TCP; use a HOST:PORT address, or --envoy none for gateways that reach the unix socket`);
    }
    if (this.options.xdsTls) {
      throw new Error('--xds-tls-cert: the managed Envoy has no client certificate for mutual TLS; run Ferry with --envoy none and start gateways from deploy/envoy/bootstrap-mtls.yaml');
    }
    const xdsHost = this.options.xdsAddress.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    this.envoy = new ManagedEnvoy({
      bootstrap: { mode: envoy.mode, values: { nodeId: 'ferry-local-gateway', role: 'both', xdsAddress: xdsHost === '0.0.0.0' || xdsHost === '::' ? '127.0.0.1' : xdsHost, xdsPort: this.xdsPort, adminPort: envoy.adminPort } },
      envoyBin: envoy.bin,
      logger: this.options.logger,
      logLevel: envoy.logLevel ?? 'warning',
    });
    await this.envoy.start();
    this.options.logger.info({ admin: this.envoy.adminAddress, pid: this.envoy.pid }, 'managed Envoy started (roles external and local)');
  }
}

/** The gateway Services of a Ferry install (deploy/kubernetes/ferry.yaml) in its namespace, as KIngress status names them. */
export function gatewayServiceHosts(namespace: string): LoadBalancerHosts {
  return { public: `ferry.${namespace}.svc.cluster.local`, private: `ferry-internal.${namespace}.svc.cluster.local` };
}
