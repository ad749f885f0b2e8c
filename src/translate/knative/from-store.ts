import { KNATIVE_CONFIG_MAPS, KNATIVE_NAMESPACE, type KnativeConfig } from '../../model/config.js';
import type { Store } from '../../store/store.js';
import { knativeConfigFrom } from './config-from-store.js';
import type { KnativeMemo } from './memo.js';
import type { KnativeInputs } from './translate.js';

/**
 * The inputs of Knative translation, read from the Store (whichever source filled it). With a memo, the config is
 * parsed again only when one of its ConfigMaps is another object, and is otherwise the very same config object (the
 * memoized translations are kept by it).
 */
export function knativeInputsFromStore(store: Store, options: { clusterDomain?: string; memo?: KnativeMemo } = {}): KnativeInputs {
  return {
    config: configFrom(store, options.clusterDomain, options.memo),
    services: store.list('KnativeService'),
    routes: store.list('Route'),
    domainMappings: store.list('DomainMapping'),
    claims: store.list('ClusterDomainClaim'),
    ingresses: store.list('KIngress'),
    coreServices: store.list('Service'),
  };
}

function configFrom(store: Store, clusterDomain: string | undefined, memo: KnativeMemo | undefined): KnativeConfig {
  const from = KNATIVE_CONFIG_MAPS.map((name) => store.get('ConfigMap', `${KNATIVE_NAMESPACE}/${name}`));
  const kept = memo?.config;
  if (kept && kept.clusterDomain === clusterDomain && kept.from.every((map, i) => map === from[i])) return kept.config;
  const config = knativeConfigFrom((key) => store.get('ConfigMap', key), clusterDomain);
  if (memo) memo.config = { from, clusterDomain, config };
  return config;
}
