/**
 * A revision-like Service with one port (named `http` unless told) and its EndpointSlice with one ready address,
 * 127.0.0.1:targetPort: the smallest manifests that route a KIngress split to a backend of the test.
 */
export function serviceWithEndpoints(name: string, targetPort: number, port: { name?: string; appProtocol?: string } = {}): string {
  const portName = port.name ?? 'http';
  const appProtocol = port.appProtocol ? `, appProtocol: ${port.appProtocol}` : '';
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ports: [{name: ${portName}, port: 80, targetPort: ${targetPort}${appProtocol}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-abcde
  namespace: default
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
endpoints:
  - addresses: [127.0.0.1]
    conditions: {ready: true}
ports: [{name: ${portName}, port: ${targetPort}${appProtocol}}]
`;
}

/** A KIngress with one ExternalIP rule per host, each sending everything to the Service it names (port 80). */
export function ingressByHost(name: string, hostsToServices: Record<string, string>): string {
  const rules = Object.entries(hostsToServices).map(([host, service]) => `
  - hosts: [${host}]
    visibility: ExternalIP
    http:
      paths:
      - splits:
        - {serviceNamespace: default, serviceName: ${service}, servicePort: 80, percent: 100}`).join('');
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations: {networking.knative.dev/ingress.class: ferry.ingress.networking.knative.dev}
spec:
  rules:${rules}
`;
}
