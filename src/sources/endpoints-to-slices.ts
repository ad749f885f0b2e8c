import type { EndpointSlice, Endpoints } from '../model/kube.js';
import { SERVICE_NAME_LABEL } from '../model/kube.js';

/**
 * Core v1 Endpoints become EndpointSlices so that everything downstream reads one endpoint model. Each subset
 * (and, within it, each address family) becomes one slice named `<endpoints>-<subset>[-v6]`, labelled with the
 * Service name as the EndpointSlice controller does; `addresses` are ready, `notReadyAddresses` are not.
 */
export function endpointsToSlices(endpoints: Endpoints): EndpointSlice[] {
  const { name, namespace } = endpoints.metadata;
  const slices: EndpointSlice[] = [];
  (endpoints.subsets ?? []).forEach((subset, s) => {
    const all = [
      ...(subset.addresses ?? []).map((a) => ({ ...a, ready: true })),
      ...(subset.notReadyAddresses ?? []).map((a) => ({ ...a, ready: false })),
    ];
    for (const family of ['IPv4', 'IPv6'] as const) {
      const addresses = all.filter((a) => (a.ip.includes(':') ? 'IPv6' : 'IPv4') === family);
      if (addresses.length === 0) continue;
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-${s}${family === 'IPv6' ? '-v6' : ''}`, namespace, labels: { [SERVICE_NAME_LABEL]: name } },
        addressType: family,
        endpoints: addresses.map((a) => ({
          addresses: [a.ip],
          conditions: { ready: a.ready, serving: a.ready, terminating: false },
          ...(a.hostname ? { hostname: a.hostname } : {}),
        })),
        ports: (subset.ports ?? []).map((p) => ({ ...p })),
      });
    }
  });
  return slices;
}
