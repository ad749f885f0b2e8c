import type { TransportSocket } from 'envoy-proto-ts/envoy/config/core/v3/base';
import { SubjectAltNameMatcher_SanType, TlsParameters_TlsProtocol } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/common';
import { Secret as EnvoySecret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import { UpstreamTlsContext } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/tls';
import { KNATIVE_NAMESPACE } from '../../model/config.js';
import type { Secret } from '../../model/kube.js';
import type { Backend } from './backends.js';
import type { TranslateConfig } from './config.js';
import { adsConfigSource, toAny } from './proto-helpers.js';
import type { SecretResult } from './secrets.js';

/**
 * config-network's system-internal-tls: the gateways speak TLS to the revisions' TLS port (the public Service's
 * `https` port, 443: the queue-proxy's 8112, or the activator's while the revision is scaled to zero), trusting the CA
 * Knative Serving publishes and checking the names Knative gives its data-plane certificates, as net-kourier does.
 */

/** Where Knative publishes the CA of its data-plane certificates (net-kourier reads the same). */
export const SYSTEM_INTERNAL_CA = { namespace: KNATIVE_NAMESPACE, name: 'routing-serving-certs' } as const;
/** The SDS validation-context resource made of that Secret's ca.crt (another name than a certificate resource's). */
export const SYSTEM_INTERNAL_CA_RESOURCE = `${SYSTEM_INTERNAL_CA.namespace}/${SYSTEM_INTERNAL_CA.name}:ca.crt`;

/** The activator's certificate name, and the queue-proxy's in the revision's namespace (Knative's certificates package). */
const ACTIVATOR_SAN = 'kn-routing';
const userSan = (namespace: string): string => `kn-user-${namespace.toLowerCase()}`;

/** The name of a Knative revision Service's TLS port (and its number). */
const TLS_PORT_NAME = 'https';
const TLS_PORT = 443;

/** Whether the gateways speak TLS to this backend: system-internal-tls is on and the split uses a revision's TLS port. */
export function usesSystemInternalTls(backend: Backend, config: TranslateConfig): boolean {
  return config.systemInternalTls && backend.externalName === undefined && (backend.portName === TLS_PORT_NAME || backend.port === TLS_PORT);
}

/** The activator Service port that matches such a backend (`https`, its 8112). */
export const ACTIVATOR_TLS_PORT_NAME = TLS_PORT_NAME;

/**
 * TLS 1.3 as Knative's components speak it, ALPN h2 for a revision that speaks HTTP/2 (gRPC) and HTTP/1.1 otherwise
 * (WebSocket upgrades stay HTTP/1.1), the CA over SDS (a rotation touches no cluster), and either of the two names.
 */
export function buildSystemInternalTlsSocket(backend: Backend): TransportSocket {
  const context = UpstreamTlsContext.fromPartial({
    commonTlsContext: {
      alpnProtocols: [backend.h2c ? 'h2' : 'http/1.1'],
      tlsParams: { tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3, tlsMaximumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_3 },
      combinedValidationContext: {
        defaultValidationContext: {
          matchTypedSubjectAltNames: [ACTIVATOR_SAN, userSan(backend.namespace)].map((exact) => ({ sanType: SubjectAltNameMatcher_SanType.DNS, matcher: { exact } })),
        },
        validationContextSdsSecretConfig: { name: SYSTEM_INTERNAL_CA_RESOURCE, sdsConfig: adsConfigSource() },
      },
    },
  });
  return { name: 'envoy.transport_sockets.tls', typedConfig: toAny('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', UpstreamTlsContext, context) };
}

/** The CA Secret's ca.crt as an SDS validation context. */
export function buildSystemInternalCaSecret(secret: Secret | undefined): SecretResult {
  const where = `config-network system-internal-tls: Secret ${SYSTEM_INTERNAL_CA.namespace}/${SYSTEM_INTERNAL_CA.name}`;
  if (!secret) return { warning: `${where} not found; the gateways cannot check the revisions' certificates, and requests to their TLS port fail until it exists` };
  const encoded = secret.data?.['ca.crt'];
  const ca = encoded !== undefined ? Buffer.from(encoded, 'base64') : Buffer.from(secret.stringData?.['ca.crt'] ?? '', 'utf8');
  if (!ca.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
    return { warning: `${where} has no PEM certificate in ca.crt; Knative Serving's certificate (or cert-manager) writes it there` };
  }
  return { secret: EnvoySecret.fromPartial({ name: SYSTEM_INTERNAL_CA_RESOURCE, validationContext: { trustedCa: { inlineBytes: ca } } }) };
}
