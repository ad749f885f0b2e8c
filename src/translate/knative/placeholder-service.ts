import type { Service } from '../../model/kube.js';
import type { Route } from '../../model/serving.js';
import { ROUTE_LABEL } from '../../model/serving.js';

/**
 * Knative's route resources.MakeK8sPlaceholderService: a Route's name is also a core Service, of type
 * ExternalName to the local gateway, so that `<route>.<ns>.svc.<cluster domain>` resolves in the cluster and a
 * DomainMapping's KIngress can use it as its backend (port 80, named http2 since the gateway speaks h2c too).
 */
export function placeholderService(route: Route, localGatewayHost: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: route.metadata.name,
      namespace: route.metadata.namespace ?? '',
      labels: { [ROUTE_LABEL]: route.metadata.name },
    },
    spec: { type: 'ExternalName', externalName: localGatewayHost, ports: [{ name: 'http2', port: 80, targetPort: 80 }] },
  };
}
