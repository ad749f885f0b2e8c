import type { KubeObject } from './meta.js';

/** The parts of core Kubernetes objects that Ferry reads. */

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  kind: 'Service';
  spec: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    externalName?: string;
    clusterIP?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
  };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  kind: 'EndpointSlice';
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Array<{
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    nodeName?: string;
    zone?: string;
  }>;
  ports?: EndpointPort[];
}

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface Endpoints extends KubeObject {
  kind: 'Endpoints';
  subsets?: Array<{
    addresses?: Array<{ ip: string; hostname?: string }>;
    notReadyAddresses?: Array<{ ip: string; hostname?: string }>;
    ports?: EndpointPort[];
  }>;
}

export interface Secret extends KubeObject {
  kind: 'Secret';
  type?: string;
  /** base64-encoded values, as in the API. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export interface ConfigMap extends KubeObject {
  kind: 'ConfigMap';
  data?: Record<string, string>;
}
