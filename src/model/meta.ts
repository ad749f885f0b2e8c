/** The parts of Kubernetes object metadata that Ferry reads. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/**
 * The parts joined by the separator, as one flat string. A longer template literal makes a cons string (a node
 * pointing at its parts, the first of them a copy), and a key kept in a Map stays one: at 10k KIngresses ~200k such
 * keys (object keys and ids, Service keys) cost ~10 MB of heap more than flat strings.
 */
export function flatJoin(separator: string, ...parts: string[]): string {
  return parts.join(separator);
}

/** "namespace/name", the key Ferry uses for namespaced objects everywhere. */
export function objectKey(o: { metadata: ObjectMeta }): string {
  return o.metadata.namespace ? flatJoin('/', o.metadata.namespace, o.metadata.name) : o.metadata.name;
}
