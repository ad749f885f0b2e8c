import { Secret as EnvoySecret } from 'envoy-proto-ts/envoy/extensions/transport_sockets/tls/v3/secret';
import type { Secret } from '../../model/kube.js';

export type SecretResult = { secret: EnvoySecret; warning?: undefined } | { secret?: undefined; warning: string };

/** A kubernetes.io/tls Secret as an SDS tls_certificate (tls.crt / tls.key, base64 in `data`). */
export function buildTlsSecret(name: string, secret: Secret | undefined, usedBy: string): SecretResult {
  if (!secret) return { warning: `${usedBy}: Secret ${name} not found; its hosts get no certificate until it exists` };
  const value = (key: string): Buffer | undefined => {
    const encoded = secret.data?.[key];
    if (encoded !== undefined) return Buffer.from(encoded, 'base64');
    const plain = secret.stringData?.[key];
    return plain !== undefined ? Buffer.from(plain, 'utf8') : undefined;
  };
  const certificateChain = value('tls.crt');
  const privateKey = value('tls.key');
  if (!certificateChain?.length || !privateKey?.length) {
    return { warning: `${usedBy}: Secret ${name} has no tls.crt and tls.key; make it a kubernetes.io/tls Secret` };
  }
  return { secret: EnvoySecret.fromPartial({ name, tlsCertificate: { certificateChain: { inlineBytes: certificateChain }, privateKey: { inlineBytes: privateKey } } }) };
}
