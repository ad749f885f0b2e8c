import type { Socket } from 'node:net';
import { createServer, type Certificate, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';
import type { XdsTlsCredentials } from './tls-credentials.js';

/** Why a connection was refused: the label of ferry_xds_refused_connections_total. */
export type RefusalReason = 'no_certificate' | 'self_signed' | 'unknown_ca' | 'expired' | 'not_yet_valid' | 'invalid_certificate' | 'no_h2_alpn' | 'handshake_failed';

const HINTS: Record<RefusalReason, string> = {
  no_certificate: 'the client presented no certificate: give the gateway a client certificate (deploy/envoy/bootstrap-mtls.yaml)',
  self_signed: 'the client certificate is self-signed: sign it with the CA of --xds-tls-client-ca',
  unknown_ca: 'the client certificate is not signed by the CA of --xds-tls-client-ca',
  expired: 'the client certificate has expired: renew it',
  not_yet_valid: 'the client certificate is not valid yet: check its notBefore and the clocks',
  invalid_certificate: 'the client certificate does not verify against --xds-tls-client-ca',
  no_h2_alpn: 'the client did not negotiate HTTP/2 (ALPN h2): set alpn_protocols: [h2] in the gateway\'s UpstreamTlsContext',
  handshake_failed: 'the TLS handshake failed (a plaintext client, or no common protocol version or cipher)',
};

/** OpenSSL's verification results (Node's authorizationError) by refusal reason. */
const VERIFY_ERRORS: Record<string, RefusalReason> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self_signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'self_signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown_ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_ca',
  CERT_SIGNATURE_FAILURE: 'unknown_ca',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not_yet_valid',
};

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Peers whose refusal was logged, before the memory starts over (a scan of addresses must not grow it without end). */
const LOGGED_PEERS_LIMIT = 1024;

export interface MutualTlsListenerOptions {
  credentials: XdsTlsCredentials;
  /** Takes each authenticated connection (the gRPC server's HTTP/2). */
  accept(socket: TLSSocket): void;
  logger: Logger;
  metrics?: FerryMetrics;
}

/**
 * The xDS port with mutual TLS: terminates TLS itself so that it sees every refused client (gRPC's own TLS server
 * drops a bad client certificate without a word), checks the client certificate against the client CA, and hands the
 * connections that pass to the gRPC server. A new certificate applies to new handshakes only: connected gateways keep
 * their streams.
 */
export class MutualTlsListener {
  private readonly server: Server;
  private readonly loggedRefusals = new Set<string>();
  private readonly logger: Logger;

  constructor(private readonly options: MutualTlsListenerOptions) {
    this.logger = options.logger.child({ component: 'xds-tls' });
    // rejectUnauthorized false: the handshake completes and the verdict is ours to count and log; an unverified
    // connection is destroyed before a byte of it reaches HTTP/2.
    // A client that never finishes its handshake holds a socket for HANDSHAKE_TIMEOUT_MS, not Node's default 120 s.
    this.server = createServer({
      ...options.credentials.secureContextOptions, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['h2'], noDelay: true, handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    options.credentials.watch((secureContext) => this.server.setSecureContext(secureContext));
    this.server.on('secureConnection', (socket: TLSSocket) => {
      const refusal = refusalOf(socket);
      if (refusal) return this.refuse(socket, refusal.reason, refusal.detail);
      options.accept(socket);
    });
    this.server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => this.refuse(socket, 'handshake_failed', { error: error.code ?? error.message }));
  }

  /** Binds HOST:PORT, [IPv6]:PORT or unix:PATH; resolves to the bound port (0 for a unix socket). */
  listen(address: string): Promise<number> {
    const unix = /^unix:(?:\/\/)?(\/.*)$/.exec(address)?.[1];
    const hostPort = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
    if (unix === undefined && !hostPort) return Promise.reject(new Error(`xds server: address ${address}: expected HOST:PORT or unix:/PATH; set --xds-address`));
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(new Error(`xds server: cannot listen on ${address}: ${error.message}; choose a free address with --xds-address`));
      this.server.once('error', failed);
      const listening = (): void => {
        this.server.off('error', failed);
        const bound = this.server.address();
        resolve(typeof bound === 'object' && bound !== null ? bound.port : 0);
      };
      if (unix !== undefined) this.server.listen({ path: unix }, listening);
      else this.server.listen({ host: hostPort![1], port: Number(hostPort![2]) }, listening);
    });
  }

  /**
   * Stops accepting and watching. Not awaited: the server's close completes when its connections end, and those
   * handed over end with the gRPC server's shutdown.
   */
  close(): void {
    this.options.credentials.close();
    this.server.close();
  }

  private refuse(socket: Socket, reason: RefusalReason, detail: Record<string, string>): void {
    socket.destroy();
    this.options.metrics?.refusedConnections.inc({ reason });
    const peer = socket.remoteAddress ?? 'unix socket';
    const key = `${peer}\n${reason}`;
    if (this.loggedRefusals.has(key)) return;
    if (this.loggedRefusals.size >= LOGGED_PEERS_LIMIT) this.loggedRefusals.clear();
    this.loggedRefusals.add(key);
    this.logger.warn({ peer, reason, ...detail }, `xDS connection refused: ${HINTS[reason]} (logged once per peer and reason; ferry_xds_refused_connections_total counts them all)`);
  }
}

/** Why this connection may not speak xDS, or nothing when its certificate verifies. */
function refusalOf(socket: TLSSocket): { reason: RefusalReason; detail: Record<string, string> } | undefined {
  if (!socket.authorized) {
    const peerCertificate = socket.getPeerCertificate();
    if (!peerCertificate || Object.keys(peerCertificate).length === 0) return { reason: 'no_certificate', detail: {} };
    const verifyError = String(socket.authorizationError ?? 'unknown');
    return {
      reason: VERIFY_ERRORS[verifyError] ?? 'invalid_certificate',
      detail: { verifyError, subject: oneLine(peerCertificate.subject), issuer: oneLine(peerCertificate.issuer), fingerprint256: peerCertificate.fingerprint256 },
    };
  }
  if (socket.alpnProtocol !== 'h2') return { reason: 'no_h2_alpn', detail: { alpn: String(socket.alpnProtocol) } };
  return undefined;
}

function oneLine(name: Certificate | undefined): string {
  return Object.entries(name ?? {}).filter(([, value]) => value !== undefined).map(([field, value]) => `${field}=${Array.isArray(value) ? value.join('+') : value}`).join(', ');
}
