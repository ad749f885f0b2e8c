import { CONFIG_DOMAIN_NAME, CONFIG_NETWORK_NAME, KNATIVE_CONFIG_MAPS, KNATIVE_NAMESPACE, parseDomainConfig, parseFeaturesConfig, parseNetworkConfig } from './config.js';
import { FERRY_CONFIG_MAP, parseGatewayOptions } from './gateway-options.js';
import { TLS_SECRET_TYPE, type ConfigMap, type EndpointSlice, type Endpoints, type Secret, type Service } from './kube.js';
import { isIPv4, isIPv6 } from 'node:net';
import { isObject } from './validate-ingress.js';
import { ErrorCollector, describeObject, type ValidationError } from './validation-error.js';

/** Core objects: only what Ferry relies on when it turns them into clusters, endpoints and certificates. */

export function validateTlsSecret(secret: Secret): ValidationError[] {
  const errors = new ErrorCollector(describeObject('Secret', secret.metadata));
  if (secret.type !== TLS_SECRET_TYPE) {
    errors.add('type', `"${secret.type ?? ''}" is not ${TLS_SECRET_TYPE}; Ferry reads only TLS Secrets`);
  }
  for (const key of ['tls.crt', 'tls.key']) {
    const inData = typeof secret.data?.[key] === 'string' && secret.data[key] !== '';
    const inStringData = typeof secret.stringData?.[key] === 'string' && secret.stringData[key] !== '';
    if (!inData && !inStringData) errors.add(`data[${key}]`, 'must be set (PEM, base64-encoded in data or plain in stringData)');
    else if (inData && !/^[A-Za-z0-9+/=\s]*$/.test(secret.data![key]!)) errors.add(`data[${key}]`, 'is not base64');
  }
  return errors.errors;
}

export function validateService(service: Service): ValidationError[] {
  const errors = new ErrorCollector(describeObject('Service', service.metadata));
  const spec = service.spec;
  if (spec === undefined) return errors.errors;
  if (!isObject(spec)) {
    errors.add('spec', 'must be an object');
    return errors.errors;
  }
  if (spec.type === 'ExternalName' && (typeof spec.externalName !== 'string' || spec.externalName === '')) {
    errors.add('spec.externalName', 'must be set for a Service of type ExternalName');
  }
  (Array.isArray(spec.ports) ? spec.ports : []).forEach((port, i) => {
    if (!isObject(port) || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
      errors.add(`spec.ports[${i}].port`, 'must be a port number from 1 to 65535');
    }
  });
  return errors.errors;
}

export function validateEndpointSlice(slice: EndpointSlice): ValidationError[] {
  const errors = new ErrorCollector(describeObject('EndpointSlice', slice.metadata));
  const addressType = slice.addressType;
  if (!['IPv4', 'IPv6', 'FQDN'].includes(addressType)) errors.add('addressType', `"${String(addressType)}" is not one of IPv4, IPv6, FQDN`);
  listAt(slice.endpoints, 'endpoints', errors).forEach((endpoint, i) => {
    if (!isObject(endpoint) || !Array.isArray(endpoint.addresses) || endpoint.addresses.length === 0) {
      return errors.add(`endpoints[${i}].addresses`, 'must list at least one address');
    }
    endpoint.addresses.forEach((address, a) => {
      const problem = addressProblem(address, addressType);
      if (problem) errors.add(`endpoints[${i}].addresses[${a}]`, problem);
    });
  });
  listAt(slice.ports, 'ports', errors).forEach((port, i) => {
    if (!isObject(port) || !Number.isInteger(port.port) || port.port! < 1 || port.port! > 65535) errors.add(`ports[${i}].port`, 'must be a port number from 1 to 65535');
  });
  return errors.errors;
}

export function validateEndpoints(endpoints: Endpoints): ValidationError[] {
  const errors = new ErrorCollector(describeObject('Endpoints', endpoints.metadata));
  listAt(endpoints.subsets, 'subsets', errors).forEach((subset, s) => {
    if (!isObject(subset)) return errors.add(`subsets[${s}]`, 'must be an object');
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      listAt(subset[list], `subsets[${s}].${list}`, errors).forEach((address, a) => {
        const problem = isObject(address) ? addressProblem(address.ip, isIPv6(String(address.ip)) ? 'IPv6' : 'IPv4') : 'must be set';
        if (problem) errors.add(`subsets[${s}].${list}[${a}].ip`, problem);
      });
    }
    listAt(subset.ports, `subsets[${s}].ports`, errors).forEach((port, p) => {
      if (!isObject(port) || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) errors.add(`subsets[${s}].ports[${p}].port`, 'must be a port number from 1 to 65535');
    });
  });
  return errors.errors;
}

/** A list field: its items, or none (with an error when it is there but not a list). */
function listAt<T>(value: T[] | undefined, field: string, errors: ErrorCollector): Array<T | undefined> {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  errors.add(field, 'must be a list');
  return [];
}

/** As the API server checks an endpoint address: an IP of the slice's family (Envoy rejects anything else). */
function addressProblem(address: unknown, addressType: string): string | undefined {
  if (typeof address !== 'string' || address === '') return 'must be set';
  if (addressType === 'IPv4' && !isIPv4(address)) return `"${address}" is not an IPv4 address`;
  if (addressType === 'IPv6' && !isIPv6(address)) return `"${address}" is not an IPv6 address`;
  return undefined;
}

/**
 * Only Knative's config-network, config-domain and config-features (in knative-serving) and Ferry's own config-ferry
 * (in the namespace the source reads it from) are read; their keys are checked here.
 */
export function validateConfigMap(configMap: ConfigMap): ValidationError[] {
  const errors = new ErrorCollector(describeObject('ConfigMap', configMap.metadata));
  const name = configMap.metadata.name;
  if (name !== FERRY_CONFIG_MAP && (configMap.metadata.namespace !== KNATIVE_NAMESPACE || !KNATIVE_CONFIG_MAPS.includes(name))) {
    errors.add('metadata', `Ferry reads only ${KNATIVE_CONFIG_MAPS.map((n) => `${KNATIVE_NAMESPACE}/${n}`).join(', ')} and its own ${FERRY_CONFIG_MAP}`);
    return errors.errors;
  }
  if (configMap.data !== undefined && (!isObject(configMap.data) || Object.values(configMap.data).some((v) => typeof v !== 'string'))) {
    errors.add('data', 'must be a map of strings (quote numbers and booleans)');
    return errors.errors;
  }
  const parsed = name === FERRY_CONFIG_MAP ? parseGatewayOptions(configMap.data) : name === CONFIG_NETWORK_NAME ? parseNetworkConfig(configMap.data) : name === CONFIG_DOMAIN_NAME ? parseDomainConfig(configMap.data) : parseFeaturesConfig(configMap.data);
  for (const problem of parsed.problems) errors.add(problem.field, problem.message);
  return errors.errors;
}
