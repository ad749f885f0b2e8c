import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';
import type { XdsCache } from './cache.js';
import { DeltaStream } from './delta-stream.js';
import type { NackStore } from './nacks.js';
import { currentRejections, type CurrentRejection } from './rejections.js';
import { SHORT_NAME } from './resource-types.js';
import { AdsService } from './service.js';
import { SotwStream } from './sotw-stream.js';
import type { StreamInfo } from './stream-info.js';
import type { StreamContext, XdsStream } from './stream.js';
import { MutualTlsListener } from './tls-credentials-listener.js';
import { XdsTlsCredentials, type XdsTlsFiles } from './tls-credentials.js';

export type { StreamInfo, StreamTypeInfo, XdsProtocol } from './stream-info.js';

export interface XdsServerOptions {
  readonly cache: XdsCache;
  readonly logger: Logger;
  readonly metrics?: FerryMetrics;
  readonly nackStore: NackStore;
  /** Longest wait of listener/route updates for cluster ACKs and EDS subscriptions (default 2000 ms). */
  readonly holdMs?: number;
  /**
   * Clusters that a delta gateway's wildcard CDS subscription does not cover: the gateway gets them when it asks for
   * them by name (Envoy's on-demand CDS). SotW gateways cannot ask, so they get every cluster. Absent: none.
   */
  readonly onDemandCluster?: (name: string) => boolean;
  /** Mutual TLS: only gateways with a client certificate of the client CA connect; absent: plaintext gRPC. */
  readonly tls?: XdsTlsFiles;
}

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 5_000;

type AnyStream = XdsStream<DiscoveryRequest> | XdsStream<DeltaDiscoveryRequest>;

/**
 * The Aggregated Discovery Service (SotW and delta) over gRPC, serving what the cache holds to each
 * gateway according to its roles. It speaks the protocol; the cache decides what exists.
 */
export class XdsServer {
  private readonly server = new Server({
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  });
  private readonly active = new Map<string, AnyStream>();
  private readonly context: StreamContext;
  private readonly unsubscribe: () => void;
  private nextId = 0;
  private readonly streamListeners = new Set<() => void>();
  private readonly tls: XdsTlsCredentials | undefined;
  private tlsListener: MutualTlsListener | undefined;

  constructor(options: XdsServerOptions) {
    const logger = options.logger.child({ component: 'xds' });
    this.context = { cache: options.cache, logger, metrics: options.metrics, nackStore: options.nackStore, holdMs: options.holdMs ?? 2_000,
      onDemandCluster: options.onDemandCluster, streamsChanged: () => { for (const listener of this.streamListeners) listener(); } };
    // Read at construction: files that do not load stop Ferry before it serves anything.
    this.tls = options.tls && new XdsTlsCredentials(options.tls, logger, options.metrics);
    this.server.addService(AdsService, {
      streamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, Buffer>) => this.track(new SotwStream(this.newId(), 'sotw', call, this.context, this.forget)),
      deltaAggregatedResources: (call: ServerDuplexStream<DeltaDiscoveryRequest, Buffer>) => this.track(new DeltaStream(this.newId(), 'delta', call, this.context, this.forget)),
    });
    const unsubscribeCache = options.cache.onChange((role, typeUrls) => {
      for (const stream of this.active.values()) if (stream.roles.includes(role)) stream.cacheChanged(role, typeUrls);
    });
    const unsubscribeMetric = options.metrics?.rejectedResources.readFrom(() => rejectedResourceCounts(currentRejections(this.streams(), options.cache)));
    this.unsubscribe = () => {
      unsubscribeCache();
      unsubscribeMetric?.();
    };
  }

  /**
   * Binds e.g. '127.0.0.1:18000', '0.0.0.0:0' or a unix domain socket 'unix:/run/ferry/xds.sock' (for gateways that
   * share a filesystem but not a network, e.g. an Envoy in another network namespace); resolves to the bound port, 0
   * for a unix socket.
   */
  async listen(address: string): Promise<number> {
    if (this.tls) {
      // The gRPC server speaks HTTP/2 on the connections the listener verified; it binds no port of its own.
      const injector = this.server.createConnectionInjector(ServerCredentials.createInsecure());
      this.tlsListener = new MutualTlsListener({ credentials: this.tls, accept: (socket) => injector.injectConnection(socket), logger: this.context.logger, metrics: this.context.metrics });
      const port = await this.tlsListener.listen(address);
      this.context.logger.info({ address, port, tls: 'mutual' }, 'xDS server listening');
      return port;
    }
    const unix = address.startsWith('unix:');
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(new Error(`xds server: cannot listen on ${address}: ${err.message}; choose a free address with --xds-address`));
        else {
          // grpc-js reports a placeholder port for unix sockets.
          const bound = unix ? 0 : port;
          this.context.logger.info({ address, port: bound }, 'xDS server listening');
          resolve(bound);
        }
      });
    });
  }

  /** Ends every stream and stops the server (forcibly after a grace period). */
  async close(): Promise<void> {
    this.unsubscribe();
    this.tlsListener?.close();
    for (const stream of [...this.active.values()]) stream.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** The connected gateway streams, for `ferry status` and the admin endpoints. */
  streams(): StreamInfo[] {
    return [...this.active.values()].map((stream) => stream.info());
  }

  /** Called after a gateway connects, ACKs, NACKs or disconnects; returns the unsubscribe function. */
  onStreamsChanged(listener: () => void): () => void {
    this.streamListeners.add(listener);
    return () => this.streamListeners.delete(listener);
  }

  private newId(): string {
    return String(++this.nextId);
  }

  private track(stream: AnyStream): void {
    this.active.set(stream.id, stream);
  }

  private readonly forget = (stream: { id: string }): void => {
    this.active.delete(stream.id);
  };
}

/** ferry_xds_rejected_resources: per type and resource, how many gateways reject it. */
function rejectedResourceCounts(rejections: readonly CurrentRejection[]): Array<readonly [{ type: string; resource: string }, number]> {
  const counts = new Map<string, { labels: { type: string; resource: string }; count: number }>();
  for (const rejection of rejections) {
    const labels = { type: SHORT_NAME[rejection.typeUrl], resource: rejection.name };
    const key = `${labels.type}\n${labels.resource}`;
    const entry = counts.get(key) ?? counts.set(key, { labels, count: 0 }).get(key)!;
    entry.count += 1;
  }
  return [...counts.values()].map(({ labels, count }) => [labels, count] as const);
}
