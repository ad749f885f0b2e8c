/** KIngress (+ Services, EndpointSlices, Secrets, config) → Envoy resources per gateway role. */
export { DEFAULT_TRANSLATE_CONFIG, type ObjectRef, type TranslateConfig, type TranslateContext } from './config.js';
export type { HostConflict } from './conflicts.js';
export { buildGatewayResources, type GatewayResources } from './gateway-resources.js';
export { translateIngress, type IngressTranslation, type RoleTranslation, type TlsHosts } from './ingress-translation.js';
export { resourceToJson } from './to-json.js';
