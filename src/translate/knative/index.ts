/** Knative Serving's Route and DomainMapping translation, as pure functions. */
export { translateKnative, revisionResolver, type KnativeInputs, type KnativeTranslation, type KnativeTranslationOptions, type TranslatedIngress, type KnativeStatus, type ObjectReference, sameObject, referenceKey } from './translate.js';
export { placeholderService } from './placeholder-service.js';
export { knativeInputsFromStore } from './from-store.js';
export { KnativeMemo } from './memo.js';
export { knativeConfigFrom } from './config-from-store.js';
export { routeToIngress, routeHttpOption, REVISION_SERVICE_PORT, DEFAULT_ROUTE_HEADER } from './route-to-ingress.js';
export { domainMappingToIngress, resolveDomainMappingTarget, type DomainMappingTarget } from './domain-mapping-to-ingress.js';
export { serviceToRoute, latestRevisionName, revisionProtocol } from './service-to-route.js';
export { buildTrafficConfig, TrafficError, type RevisionTarget, type RevisionResolver, type TrafficConfig, type RevisionProtocol } from './traffic.js';
export { resolveDomainClaims, type ClaimResult } from './claims.js';
export { domainsForVisibility, expandedHosts, hostnameFromTemplate, lookupDomainForLabels, routeVisibility } from './domains.js';
