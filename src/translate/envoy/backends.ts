import type { IngressBackend } from '../../model/ingress.js';
import type { Service, ServicePort } from '../../model/kube.js';
import { clusterName } from './names.js';

/** One upstream cluster: a Service port that some split sends traffic to. */
export interface Backend {
  clusterName: string;
  namespace: string;
  serviceName: string;
  /** The Service port number (for ExternalName: the port dialled on the external host). */
  port: number;
  /** The Service port's name; EndpointSlice ports carry the same name. */
  portName: string;
  /**
   * Speak HTTP/2 upstream: h2c on a port named http2/h2c or with appProtocol kubernetes.io/h2c; on a Knative revision's
   * TLS port (`https`, for system-internal-tls), h2 when the Service's other port says the revision speaks HTTP/2.
   */
  h2c: boolean;
  /** Set for an ExternalName Service: resolved by DNS instead of EDS. */
  externalName?: string;
}

/** The cluster a split routes to; `backend` is set when the Service port is known, `warning` otherwise. */
export interface BackendResolution {
  clusterName: string;
  backend?: Backend;
  warning?: string;
}

const H2C_PORT_NAMES = new Set(['http2', 'h2c']);
const H2C_APP_PROTOCOL = 'kubernetes.io/h2c';

function speaksH2c(port: ServicePort): boolean {
  return H2C_PORT_NAMES.has(port.name ?? '') || port.appProtocol === H2C_APP_PROTOCOL;
}

/**
 * Resolves a split's service port (a number or a port name) against its Service. When the Service or
 * the port is unknown the split still routes to a named cluster that does not exist (Envoy answers 503)
 * and the warning says what is missing.
 */
export function resolveBackend(ref: IngressBackend, service: Service | undefined, field: string): BackendResolution {
  const fallbackName = clusterName(ref.serviceNamespace, ref.serviceName, ref.servicePort);
  const what = `${field}: Service ${ref.serviceNamespace}/${ref.serviceName}`;
  if (!service) return { clusterName: fallbackName, warning: `${what} not found; its requests get 503 until it exists` };
  const ports = service.spec.ports ?? [];
  const port = typeof ref.servicePort === 'number' ? ports.find((p) => p.port === ref.servicePort) : ports.find((p) => p.name === ref.servicePort);
  const isExternalName = service.spec.type === 'ExternalName';
  if (!port) {
    // An ExternalName Service often lists no ports: a numeric servicePort is then the port to dial.
    if (isExternalName && typeof ref.servicePort === 'number' && service.spec.externalName) {
      const backend: Backend = { clusterName: fallbackName, namespace: ref.serviceNamespace, serviceName: ref.serviceName, port: ref.servicePort, portName: '', h2c: false, externalName: service.spec.externalName };
      return { clusterName: fallbackName, backend };
    }
    return { clusterName: fallbackName, warning: `${what} has no port ${JSON.stringify(ref.servicePort)}; add it to the Service or fix servicePort` };
  }
  if (isExternalName && !service.spec.externalName) {
    return { clusterName: fallbackName, warning: `${what} is of type ExternalName but spec.externalName is empty` };
  }
  const backend: Backend = {
    clusterName: clusterName(ref.serviceNamespace, ref.serviceName, port.port),
    namespace: ref.serviceNamespace,
    serviceName: ref.serviceName,
    port: port.port,
    portName: port.name ?? '',
    h2c: speaksH2c(port) || (port.name === 'https' && ports.some(speaksH2c)),
    ...(isExternalName ? { externalName: service.spec.externalName } : {}),
  };
  return { clusterName: backend.clusterName, backend };
}
