import type { Endpoints } from './kube.js';
import type { AnyObject, ObjectKind, ObjectsByKind } from './kinds.js';
import { CLUSTER_SCOPED_KINDS } from './kinds.js';
import { dns1123SubdomainProblem } from './names.js';
import { isObject, validateKIngress } from './validate-ingress.js';
import { validateConfigMap, validateEndpointSlice, validateEndpoints, validateService, validateTlsSecret } from './validate-kube.js';
import { validateClusterDomainClaim, validateDomainMapping, validateKnativeService, validateRoute } from './validate-serving.js';
import { describeObject, type ValidationError } from './validation-error.js';

const VALIDATORS: { [K in ObjectKind]: (object: ObjectsByKind[K]) => ValidationError[] } = {
  KIngress: validateKIngress,
  KnativeService: validateKnativeService,
  Route: validateRoute,
  DomainMapping: validateDomainMapping,
  ClusterDomainClaim: validateClusterDomainClaim,
  Service: validateService,
  EndpointSlice: validateEndpointSlice,
  Secret: validateTlsSecret,
  ConfigMap: validateConfigMap,
};

/** How an object is named in messages: the manifest kind, not Ferry's internal kind name. */
export function manifestKindName(kind: ObjectKind | 'Endpoints'): string {
  if (kind === 'KIngress') return 'Ingress';
  if (kind === 'KnativeService') return 'Service';
  return kind;
}

/** Checks metadata, then the kind's own rules. Returns no errors for a valid object. */
export function validateObject<K extends ObjectKind>(kind: K, object: ObjectsByKind[K]): ValidationError[];
export function validateObject(kind: 'Endpoints', object: Endpoints): ValidationError[];
export function validateObject(kind: ObjectKind | 'Endpoints', object: AnyObject | Endpoints): ValidationError[] {
  const metadataErrors = validateMetadata(kind, object);
  if (metadataErrors.length > 0) return metadataErrors;
  if (kind === 'Endpoints') return validateEndpoints(object as Endpoints);
  return (VALIDATORS[kind] as (o: AnyObject) => ValidationError[])(object as AnyObject);
}

function validateMetadata(kind: ObjectKind | 'Endpoints', object: { metadata?: { name?: unknown; namespace?: unknown } }): ValidationError[] {
  const metadata = object.metadata;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : undefined;
  const describe = describeObject(manifestKindName(kind), { name, namespace });
  if (!name) return [{ object: describe, field: 'metadata.name', message: 'must be set' }];
  const problem = dns1123SubdomainProblem(name);
  if (problem) return [{ object: describe, field: 'metadata.name', message: problem }];
  // Translation reads labels and annotations (visibility, ingress class, rollout): maps of strings, as the API server keeps them.
  for (const field of ['labels', 'annotations'] as const) {
    const map = (metadata as Record<string, unknown>)[field];
    if (map !== undefined && map !== null && (!isObject(map) || Object.values(map).some((v) => typeof v !== 'string'))) {
      return [{ object: describe, field: `metadata.${field}`, message: 'must be a map of strings (quote numbers and booleans)' }];
    }
  }
  if (kind !== 'Endpoints' && CLUSTER_SCOPED_KINDS.has(kind)) return [];
  if (!namespace) return [{ object: describe, field: 'metadata.namespace', message: 'must be set' }];
  return [];
}
