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

/**
 * A KIngress with one ExternalIP rule per host, each sending everything to the Service it names (port 80); `annotations`
 * besides the ingress class, `tls` as host → Secret name (namespace default).
 */
export function ingressByHost(name: string, hostsToServices: Record<string, string>, extra: { annotations?: Record<string, string>; tls?: Record<string, string> } = {}): string {
  const rules = Object.entries(hostsToServices).map(([host, service]) => `
  - hosts: [${host}]
    visibility: ExternalIP
    http:
      paths:
      - splits:
        - {serviceNamespace: default, serviceName: ${service}, servicePort: 80, percent: 100}`).join('');
  const annotations = { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev', ...extra.annotations };
  const tls = Object.entries(extra.tls ?? {}).map(([host, secret]) => `\n  - {hosts: [${host}], secretNamespace: default, secretName: ${secret}}`).join('');
  return `apiVersion: networking.internal.knative.dev/v1alpha1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations: ${JSON.stringify(annotations)}
spec:${tls ? `\n  tls:${tls}` : ''}
  rules:${rules}
`;
}

/** A ConfigMap as files mode reads it: config-ferry in ferry-system, or Knative's (config-network...) in knative-serving. */
export function configMapManifest(name: string, data: Record<string, string>, namespace = name === 'config-ferry' ? 'ferry-system' : 'knative-serving'): string {
  const lines = Object.entries(data).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${namespace}}\ndata:${lines.length > 0 ? `\n${lines.join('\n')}` : ' {}'}\n`;
}
