import { TlsParameters, TlsParameters_TlsProtocol } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/common';
import type { GatewayOptions, TlsVersion } from '../../model/gateway-options.js';

const PROTOCOLS: Record<TlsVersion, TlsParameters_TlsProtocol> = {
  '1.0': TlsParameters_TlsProtocol.TLSv1_0,
  '1.1': TlsParameters_TlsProtocol.TLSv1_1,
  '1.2': TlsParameters_TlsProtocol.TLSv1_2,
  '1.3': TlsParameters_TlsProtocol.TLSv1_3,
};

/** The HTTPS listeners' TLS policy; undefined leaves Envoy's defaults (TLS 1.2 to 1.3, BoringSSL's cipher suites). */
export function buildTlsParameters(tls: GatewayOptions['tls']): TlsParameters | undefined {
  if (!tls.minVersion && !tls.maxVersion && !tls.cipherSuites) return undefined;
  return TlsParameters.fromPartial({
    tlsMinimumProtocolVersion: tls.minVersion ? PROTOCOLS[tls.minVersion] : TlsParameters_TlsProtocol.TLS_AUTO,
    tlsMaximumProtocolVersion: tls.maxVersion ? PROTOCOLS[tls.maxVersion] : TlsParameters_TlsProtocol.TLS_AUTO,
    cipherSuites: tls.cipherSuites ? [...tls.cipherSuites] : [],
  });
}
