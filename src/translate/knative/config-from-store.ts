import {
  CONFIG_DOMAIN_NAME, CONFIG_FEATURES_NAME, CONFIG_NETWORK_NAME, DEFAULT_CLUSTER_DOMAIN, KNATIVE_NAMESPACE,
  parseDomainConfig, parseFeaturesConfig, parseNetworkConfig, type KnativeConfig,
} from '../../model/config.js';
import type { ConfigMap } from '../../model/kube.js';

/**
 * The Knative configuration from the config ConfigMaps (absent ones give Knative's defaults). The ConfigMaps
 * reached the store validated, so parse problems cannot occur here.
 */
export function knativeConfigFrom(getConfigMap: (key: string) => ConfigMap | undefined, clusterDomain = DEFAULT_CLUSTER_DOMAIN): KnativeConfig {
  const data = (name: string): Record<string, string> | undefined => getConfigMap(`${KNATIVE_NAMESPACE}/${name}`)?.data;
  return {
    network: parseNetworkConfig(data(CONFIG_NETWORK_NAME)).value,
    domain: parseDomainConfig(data(CONFIG_DOMAIN_NAME)).value,
    features: parseFeaturesConfig(data(CONFIG_FEATURES_NAME)).value,
    clusterDomain,
  };
}
