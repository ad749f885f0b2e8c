import { parse as parseYaml } from 'yaml';
import { FERRY_INGRESS_CLASS } from './ingress.js';
import { parseGoTemplate, type GoTemplate } from './template.js';

/**
 * The Knative configuration that shapes Route and DomainMapping translation: config-network and config-domain
 * (ConfigMaps in knative-serving), parsed into typed values with Knative's defaults.
 */
export const KNATIVE_NAMESPACE = 'knative-serving';
export const CONFIG_NETWORK_NAME = 'config-network';
export const CONFIG_DOMAIN_NAME = 'config-domain';
export const CONFIG_FEATURES_NAME = 'config-features';
/** The ConfigMaps (in knative-serving) that Ferry reads. */
export const KNATIVE_CONFIG_MAPS: readonly string[] = [CONFIG_NETWORK_NAME, CONFIG_DOMAIN_NAME, CONFIG_FEATURES_NAME];

export const DEFAULT_DOMAIN_TEMPLATE = '{{.Name}}.{{.Namespace}}.{{.Domain}}';
export const DEFAULT_TAG_TEMPLATE = '{{.Tag}}-{{.Name}}';
export const DEFAULT_DOMAIN = 'example.com';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export type HttpProtocol = 'Enabled' | 'Redirected' | 'Disabled';

export interface NetworkConfig {
  /** Knative's default is Istio's class; Ferry defaults to its own, since in files mode Ferry is the only ingress. */
  ingressClass: string;
  domainTemplate: GoTemplate;
  tagTemplate: GoTemplate;
  autocreateClusterDomainClaims: boolean;
  httpProtocol: HttpProtocol;
  externalDomainTls: boolean;
  /** The scheme of external Route URLs when Knative provisions no certificate for them. */
  defaultExternalScheme: 'http' | 'https';
  /** TLS from the gateway to the activator and queue-proxy (Ferry does not honour it: it says so). */
  systemInternalTls: boolean;
  /** TLS for cluster-local hosts, with certificates Knative Serving provisions into the KIngress's spec.tls. */
  clusterLocalDomainTls: boolean;
}

export interface DomainSelector {
  domain: string;
  /** Equality-based label selector; empty selects every Route (the default domain). */
  selector: Record<string, string>;
}

export interface DomainConfig {
  domains: DomainSelector[];
}

/** The config-features flags that change Route translation. */
export interface FeaturesConfig {
  /** `tag-header-based-routing: Enabled`: a Knative-Serving-Tag header selects a tag's revisions on the Route's own hosts. */
  tagHeaderBasedRouting: boolean;
}

export interface KnativeConfig {
  network: NetworkConfig;
  domain: DomainConfig;
  features: FeaturesConfig;
  /** The cluster's DNS domain (Knative reads it from resolv.conf); cluster-local hosts end in `svc.<clusterDomain>`. */
  clusterDomain: string;
}

/** A config key that cannot be honoured. */
export interface ConfigProblem {
  field: string;
  message: string;
}

export interface Parsed<T> {
  value: T;
  problems: ConfigProblem[];
}

function defaultNetworkConfig(): NetworkConfig {
  return {
    ingressClass: FERRY_INGRESS_CLASS,
    domainTemplate: parseGoTemplate(DEFAULT_DOMAIN_TEMPLATE),
    tagTemplate: parseGoTemplate(DEFAULT_TAG_TEMPLATE),
    autocreateClusterDomainClaims: false,
    httpProtocol: 'Enabled',
    externalDomainTls: false,
    defaultExternalScheme: 'http',
    systemInternalTls: false,
    clusterLocalDomainTls: false,
  };
}

function defaultDomainConfig(): DomainConfig {
  return { domains: [{ domain: DEFAULT_DOMAIN, selector: {} }] };
}

export function defaultKnativeConfig(): KnativeConfig {
  return { network: defaultNetworkConfig(), domain: defaultDomainConfig(), features: { tagHeaderBasedRouting: false }, clusterDomain: DEFAULT_CLUSTER_DOMAIN };
}

const HTTP_PROTOCOLS: Record<string, HttpProtocol> = { enabled: 'Enabled', redirected: 'Redirected', disabled: 'Disabled' };

/** config-network `data`, with the keys' legacy spellings accepted as Knative does. */
export function parseNetworkConfig(data: Record<string, string> = {}): Parsed<NetworkConfig> {
  const value = defaultNetworkConfig();
  const problems: ConfigProblem[] = [];
  const pick = (...keys: string[]): [string, string] | undefined => {
    for (const key of keys) {
      const v = data[key];
      if (v !== undefined && v.trim() !== '') return [key, v.trim()];
    }
    return undefined;
  };

  const ingressClass = pick('ingress-class', 'ingress.class');
  if (ingressClass) value.ingressClass = ingressClass[1];

  const domainTemplate = pick('domain-template', 'domainTemplate');
  if (domainTemplate) {
    try {
      value.domainTemplate = checkDomainTemplate(parseGoTemplate(domainTemplate[1]));
    } catch (error) {
      problems.push({ field: `data.${domainTemplate[0]}`, message: (error as Error).message });
    }
  }

  const tagTemplate = pick('tag-template', 'tagTemplate');
  if (tagTemplate) {
    try {
      const template = parseGoTemplate(tagTemplate[1]);
      template.execute({ Name: 'foo', Tag: 'v2' });
      value.tagTemplate = template;
    } catch (error) {
      problems.push({ field: `data.${tagTemplate[0]}`, message: (error as Error).message });
    }
  }

  const autocreate = pick('autocreate-cluster-domain-claims');
  if (autocreate) {
    const flag = parseBoolean(autocreate[1]);
    if (flag === undefined) problems.push({ field: `data.${autocreate[0]}`, message: `"${autocreate[1]}" is not a boolean; use "true" or "false"` });
    else value.autocreateClusterDomainClaims = flag;
  }

  const httpProtocol = pick('http-protocol', 'httpProtocol');
  if (httpProtocol) {
    const protocol = HTTP_PROTOCOLS[httpProtocol[1].toLowerCase()];
    if (!protocol) problems.push({ field: `data.${httpProtocol[0]}`, message: `"${httpProtocol[1]}" is not one of Enabled, Redirected, Disabled` });
    else value.httpProtocol = protocol;
  }

  const externalTls = pick('external-domain-tls', 'auto-tls', 'autoTLS');
  if (externalTls) {
    const v = externalTls[1].toLowerCase();
    if (v !== 'enabled' && v !== 'disabled') problems.push({ field: `data.${externalTls[0]}`, message: `"${externalTls[1]}" is not one of Enabled, Disabled` });
    else value.externalDomainTls = v === 'enabled';
  }

  const scheme = pick('default-external-scheme', 'defaultExternalScheme');
  if (scheme) {
    const v = scheme[1].toLowerCase();
    if (v !== 'http' && v !== 'https') problems.push({ field: `data.${scheme[0]}`, message: `"${scheme[1]}" is not one of http, https` });
    else value.defaultExternalScheme = v;
  }
  // internal-encryption is system-internal-tls's deprecated boolean; the new key wins.
  const legacyEncryption = pick('internal-encryption');
  if (legacyEncryption) {
    const flag = parseBoolean(legacyEncryption[1]);
    if (flag === undefined) problems.push({ field: 'data.internal-encryption', message: `"${legacyEncryption[1]}" is not a boolean; use "true" or "false" (or system-internal-tls: Enabled)` });
    else value.systemInternalTls = flag;
  }
  for (const [key, field] of [['system-internal-tls', 'systemInternalTls'], ['cluster-local-domain-tls', 'clusterLocalDomainTls']] as const) {
    const found = pick(key);
    if (!found) continue;
    const v = found[1].toLowerCase();
    if (v !== 'enabled' && v !== 'disabled') problems.push({ field: `data.${key}`, message: `"${found[1]}" is not one of Enabled, Disabled` });
    else value[field] = v === 'enabled';
  }
  return { value, problems };
}

/** config-domain `data`: each key a domain, each value `selector: {label: value}` (or empty for the default). */
export function parseDomainConfig(data: Record<string, string> = {}): Parsed<DomainConfig> {
  const problems: ConfigProblem[] = [];
  const domains: DomainSelector[] = [];
  for (const [domain, text] of Object.entries(data)) {
    if (domain.startsWith('_')) continue;
    let parsed: unknown;
    try {
      parsed = parseYaml(text ?? '');
    } catch (error) {
      problems.push({ field: `data.${domain}`, message: `not valid YAML: ${(error as Error).message}` });
      continue;
    }
    const selector = (parsed as { selector?: unknown } | null)?.selector ?? {};
    if (parsed !== null && parsed !== undefined && typeof parsed !== 'object') {
      problems.push({ field: `data.${domain}`, message: 'must be empty or a map with a "selector" of labels' });
      continue;
    }
    if (typeof selector !== 'object' || selector === null || Object.values(selector).some((v) => typeof v !== 'string')) {
      problems.push({ field: `data.${domain}.selector`, message: 'must be a map of label names to string values' });
      continue;
    }
    domains.push({ domain, selector: selector as Record<string, string> });
  }
  if (!domains.some((d) => Object.keys(d.selector).length === 0)) domains.push({ domain: DEFAULT_DOMAIN, selector: {} });
  return { value: { domains }, problems };
}

/** config-features `data`; only the flags that change translation are read. */
export function parseFeaturesConfig(data: Record<string, string> = {}): Parsed<FeaturesConfig> {
  const problems: ConfigProblem[] = [];
  const value: FeaturesConfig = { tagHeaderBasedRouting: false };
  const flag = data['tag-header-based-routing']?.trim();
  if (flag) {
    const v = flag.toLowerCase();
    if (!['enabled', 'disabled', 'allowed'].includes(v)) problems.push({ field: 'data.tag-header-based-routing', message: `"${flag}" is not one of Enabled, Disabled, Allowed` });
    else value.tagHeaderBasedRouting = v === 'enabled';
  }
  return { value, problems };
}

function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

/** Knative rejects a domain template whose trial output is not a bare host name. */
function checkDomainTemplate(template: GoTemplate): GoTemplate {
  const host = template.execute({ Name: 'foo', Namespace: 'bar', Domain: 'baz.com', Annotations: {}, Labels: {} });
  if (host === '') throw new Error('domain template yields an empty host name');
  if (/[/?#\s]/.test(host)) throw new Error(`domain template yields "${host}", which is not a bare host name`);
  return template;
}
