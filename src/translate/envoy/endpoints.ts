import { ClusterLoadAssignment } from 'envoy-proto-ts/envoy/config/endpoint/v3/endpoint';
import type { EndpointSlice } from '../../model/kube.js';
import type { Backend } from './backends.js';
import type { TranslateContext } from './config.js';
import { ACTIVATOR_TLS_PORT_NAME, usesSystemInternalTls } from './system-internal-tls.js';

export interface EndpointAddress {
  address: string;
  port: number;
}

/** Priority of the revision's own endpoints, and of the activator fallback. */
const PODS_PRIORITY = 0;
const ACTIVATOR_PRIORITY = 1;

/**
 * The ClusterLoadAssignment of an EDS backend. When the backend has no ready endpoint, the activator's
 * endpoints are added as a priority-1 locality: Envoy sends to the highest priority that has healthy
 * hosts, so with P0 empty all traffic goes to the activator at once (which wakes the revision named by
 * the Knative-Serving-Revision/-Namespace headers the routes set), and when pods are ready again the next
 * EDS update holds only P0. The activator is left out while pods are ready so that activator scaling
 * re-sends only the assignments of scaled-to-zero backends, not of every backend.
 */
export function buildLoadAssignment(backend: Backend, ctx: TranslateContext): ClusterLoadAssignment {
  const pods = readyEndpoints(ctx.endpointSlices(backend.namespace, backend.serviceName), backend.portName);
  const localities = [];
  if (pods.length > 0) localities.push(locality(pods, PODS_PRIORITY));
  else {
    const activator = activatorEndpoints(backend, ctx);
    if (activator.length > 0) localities.push(locality(activator, ACTIVATOR_PRIORITY));
  }
  return ClusterLoadAssignment.fromPartial({ clusterName: backend.clusterName, endpoints: localities });
}

function locality(addresses: EndpointAddress[], priority: number) {
  return {
    priority,
    lbEndpoints: addresses.map(({ address, port }) => ({ endpoint: { address: { socketAddress: { address, portValue: port } } } })),
  };
}

/** The activator's port for the backend's protocol (Knative: `http` 80→8012, `http2` 81→8013, `https` 443→8112). */
function activatorEndpoints(backend: Backend, ctx: TranslateContext): EndpointAddress[] {
  const ref = ctx.config.activator;
  if (!ref) return [];
  const service = ctx.service(ref.namespace, ref.name);
  const ports = service?.spec.ports ?? [];
  const name = usesSystemInternalTls(backend, ctx.config) ? ACTIVATOR_TLS_PORT_NAME : backend.h2c ? 'http2' : 'http';
  const port = ports.find((p) => p.name === name) ?? ports[0];
  if (!port) return [];
  return readyEndpoints(ctx.endpointSlices(ref.namespace, ref.name), port.name ?? '');
}

/**
 * Ready addresses of a Service port across its EndpointSlices, sorted and without duplicates. The slice
 * port is found by the Service port's name (EndpointSlice ports carry it; "" when unnamed), and its
 * number is the target port. A missing `ready` condition means ready (Kubernetes API convention).
 */
export function readyEndpoints(slices: readonly EndpointSlice[], portName: string): EndpointAddress[] {
  const found = new Map<string, EndpointAddress>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const port = slice.ports?.find((p) => (p.name ?? '') === portName);
    if (!port) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses) found.set(`${address}|${port.port}`, { address, port: port.port });
    }
  }
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, endpoint]) => endpoint);
}
