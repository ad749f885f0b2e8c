import type { Store } from '../../store/store.js';
import { knativeConfigFrom } from './config-from-store.js';
import type { KnativeInputs } from './translate.js';

/** The inputs of Knative translation, read from the Store (whichever source filled it). */
export function knativeInputsFromStore(store: Store, options: { clusterDomain?: string } = {}): KnativeInputs {
  return {
    config: knativeConfigFrom((key) => store.get('ConfigMap', key), options.clusterDomain),
    services: store.list('KnativeService'),
    routes: store.list('Route'),
    domainMappings: store.list('DomainMapping'),
    claims: store.list('ClusterDomainClaim'),
    ingresses: store.list('KIngress'),
    coreServices: store.list('Service'),
  };
}
