import type { KnativeConfig } from '../../model/config.js';
import type { IngressRule, IngressTLS, KIngress } from '../../model/ingress.js';
import type { DomainMapping } from '../../model/serving.js';
import { DOMAIN_MAPPING_NAMESPACE_LABEL, DOMAIN_MAPPING_UID_LABEL, ORIGINAL_HOST_HEADER } from '../../model/serving.js';
import { makeIngress } from './route-to-ingress.js';

/** What a DomainMapping's ref resolves to: a Service in its namespace, reached by its cluster-local host. */
export interface DomainMappingTarget {
  serviceName: string;
  host: string;
}

/** Kinds a DomainMapping may point at, with the Service its cluster-local host names. */
const ADDRESSABLE_REFS = new Set(['serving.knative.dev/v1/Service', 'serving.knative.dev/v1/Route', 'v1/Service']);

/**
 * Resolves spec.ref like Knative's reconciler: the target's address must be `<name>.<namespace>.svc.<cluster
 * domain>` in the DomainMapping's namespace, and the backend is the Service `<name>` (a Route's placeholder
 * Service). `exists` says whether the referenced object is known. Throws with a message for the status.
 */
export function resolveDomainMappingTarget(mapping: DomainMapping, config: KnativeConfig, exists: (kind: string, name: string) => boolean): DomainMappingTarget {
  const ref = mapping.spec.ref;
  const refKind = `${ref.apiVersion}/${ref.kind}`;
  if (!ADDRESSABLE_REFS.has(refKind)) throw new Error(`spec.ref ${ref.apiVersion} ${ref.kind} is not supported: use serving.knative.dev/v1 Service or Route, or a v1 Service`);
  const name = ref.name ?? '';
  if (!exists(refKind, name)) throw new Error(`${ref.kind} ${mapping.metadata.namespace}/${name} (spec.ref) does not exist`);
  return { serviceName: name, host: `${name}.${mapping.metadata.namespace}.svc.${config.clusterDomain}` };
}

/**
 * Knative's domainmapping resources.MakeIngress: one ExternalIP rule for the mapped domain, rewriting the host to
 * the target's cluster-local host and sending K-Original-Host, to the target Service on port 80.
 */
export function domainMappingToIngress(mapping: DomainMapping, target: DomainMappingTarget, config: KnativeConfig): KIngress {
  const namespace = mapping.metadata.namespace ?? '';
  const tls: IngressTLS[] = mapping.spec.tls?.secretName ? [{ hosts: [mapping.metadata.name], secretName: mapping.spec.tls.secretName, secretNamespace: namespace }] : [];
  const rule: IngressRule = {
    hosts: [mapping.metadata.name],
    visibility: 'ExternalIP',
    http: {
      paths: [{
        rewriteHost: target.host,
        splits: [{
          serviceNamespace: namespace,
          serviceName: target.serviceName,
          servicePort: 80,
          percent: 100,
          appendHeaders: { [ORIGINAL_HOST_HEADER]: mapping.metadata.name },
        }],
      }],
    },
  };
  return makeIngress(mapping.metadata, { [DOMAIN_MAPPING_UID_LABEL]: mapping.metadata.uid ?? '', [DOMAIN_MAPPING_NAMESPACE_LABEL]: namespace }, tls, [rule], config);
}
