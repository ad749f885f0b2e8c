import { dns1035LabelProblem, dns1123LabelProblem, dns1123SubdomainProblem, domainNameProblem } from './names.js';
import type { ClusterDomainClaim, DomainMapping, KnativeService, Route, TrafficTarget } from './serving.js';
import { isObject } from './validate-ingress.js';
import { ErrorCollector, describeObject, type ValidationError } from './validation-error.js';

/** The rules of Knative's webhook for serving.knative.dev Services, Routes and DomainMappings, for the fields Ferry reads. */

export function validateKnativeService(service: KnativeService): ValidationError[] {
  const errors = new ErrorCollector(describeObject('Service', service.metadata));
  if (!isObject(service.spec)) {
    errors.add('spec', 'must be set (with spec.template)');
    return errors.errors;
  }
  const template = service.spec.template;
  if (template !== undefined && !isObject(template)) errors.add('spec.template', 'must be an object');
  else if (template?.metadata !== undefined && !isObject(template.metadata)) errors.add('spec.template.metadata', 'must be an object');
  else if (template?.spec !== undefined && !isObject(template.spec)) errors.add('spec.template.spec', 'must be an object');
  else if (template?.spec?.containers !== undefined) validateContainers(template.spec.containers, errors);
  if (errors.errors.length > 0) return errors.errors;
  const revisionName = service.spec.template?.metadata?.name;
  if (revisionName !== undefined) {
    const problem = typeof revisionName === 'string' ? dns1123LabelProblem(revisionName) : 'must be a string';
    if (problem) errors.add('spec.template.metadata.name', problem);
    else if (!revisionName.startsWith(`${service.metadata.name}-`)) {
      errors.add('spec.template.metadata.name', `"${revisionName}" must have the prefix "${service.metadata.name}-"`);
    }
  }
  // A Service's traffic may be left out (it then sends 100% to the latest revision); its targets name no configuration.
  if (service.spec.traffic !== undefined) validateTraffic(service.spec.traffic, 'spec.traffic', true, errors);
  return errors.errors;
}

/** What translation reads of the containers: the names of their ports (a port named h2c makes the revision h2c). */
function validateContainers(containers: unknown, errors: ErrorCollector): void {
  if (!Array.isArray(containers)) return errors.add('spec.template.spec.containers', 'must be a list');
  containers.forEach((container: unknown, c) => {
    const at = `spec.template.spec.containers[${c}]`;
    if (!isObject(container)) return errors.add(at, 'must be an object');
    const ports = (container as { ports?: unknown }).ports;
    if (ports === undefined) return;
    if (!Array.isArray(ports)) return errors.add(`${at}.ports`, 'must be a list');
    ports.forEach((port: unknown, p) => {
      if (!isObject(port)) errors.add(`${at}.ports[${p}]`, 'must be an object');
    });
  });
}

export function validateRoute(route: Route): ValidationError[] {
  const errors = new ErrorCollector(describeObject('Route', route.metadata));
  if (!isObject(route.spec)) {
    errors.add('spec', 'must be set (with spec.traffic)');
    return errors.errors;
  }
  if (route.spec.traffic !== undefined) validateTraffic(route.spec.traffic, 'spec.traffic', false, errors);
  return errors.errors;
}

function validateTraffic(traffic: TrafficTarget[], at: string, inService: boolean, errors: ErrorCollector): void {
  if (!Array.isArray(traffic)) return errors.add(at, 'must be a list of traffic targets');
  if (traffic.length === 0 && !inService) return;
  const tags = new Map<string, number>();
  let sum = 0;
  traffic.forEach((target, i) => {
    const targetAt = `${at}[${i}]`;
    if (!isObject(target)) return errors.add(targetAt, 'must be an object');
    if (target.percent !== undefined) {
      if (typeof target.percent !== 'number' || !Number.isInteger(target.percent) || target.percent < 0 || target.percent > 100) {
        errors.add(`${targetAt}.percent`, `${JSON.stringify(target.percent)} must be an integer from 0 to 100`);
      } else sum += target.percent;
    }
    if (target.latestRevision !== undefined) {
      const pinned = typeof target.revisionName === 'string' && target.revisionName !== '';
      if (pinned === target.latestRevision) {
        errors.add(`${targetAt}.latestRevision`, `may not set revisionName "${target.revisionName ?? ''}" when latestRevision is ${String(target.latestRevision)}`);
      }
    }
    if (inService && target.configurationName !== undefined) {
      errors.add(`${targetAt}.configurationName`, 'must not be set in a Service (its configuration is the Service itself)');
    } else if (target.revisionName && target.configurationName) {
      errors.add(targetAt, 'expected exactly one of revisionName, configurationName');
    } else if (target.revisionName) {
      const problem = dns1123SubdomainProblem(target.revisionName);
      if (problem) errors.add(`${targetAt}.revisionName`, problem);
    } else if (!inService && !target.configurationName) {
      errors.add(targetAt, 'expected exactly one of revisionName, configurationName');
    }
    if (target.url !== undefined) errors.add(`${targetAt}.url`, 'must not be set in spec (it is a status field)');
    if (target.tag !== undefined) {
      const problem = typeof target.tag === 'string' ? dns1035LabelProblem(target.tag) : 'must be a string';
      if (problem) errors.add(`${targetAt}.tag`, problem);
      const first = tags.get(target.tag);
      if (first !== undefined) errors.add(`${targetAt}.tag`, `multiple definitions for "${target.tag}" (also ${at}[${first}].tag)`);
      else tags.set(target.tag, i);
    }
  });
  if (traffic.length > 0 && sum !== 100) errors.add(at, `traffic targets sum to ${sum}, want 100`);
}

export function validateDomainMapping(mapping: DomainMapping): ValidationError[] {
  const errors = new ErrorCollector(describeObject('DomainMapping', mapping.metadata));
  const nameProblem = domainNameProblem(mapping.metadata.name);
  if (nameProblem) errors.add('metadata.name', `the name of a DomainMapping is the domain it maps: ${nameProblem}`);
  if (!isObject(mapping.spec) || !isObject(mapping.spec.ref)) {
    errors.add('spec.ref', 'must be set to the Knative Service, Route or Service the domain maps to');
    return errors.errors;
  }
  const ref = mapping.spec.ref;
  if (!ref.kind) errors.add('spec.ref.kind', 'must be set (e.g. Service)');
  if (!ref.apiVersion) errors.add('spec.ref.apiVersion', 'must be set (e.g. serving.knative.dev/v1)');
  if (!ref.name) errors.add('spec.ref.name', 'must be set');
  else {
    const problem = dns1123LabelProblem(ref.name);
    if (problem) errors.add('spec.ref.name', problem);
  }
  if (ref.namespace && ref.namespace !== mapping.metadata.namespace) {
    errors.add('spec.ref.namespace', `must be empty or the DomainMapping's own namespace "${mapping.metadata.namespace ?? ''}"`);
  }
  if (mapping.spec.tls !== undefined && (!isObject(mapping.spec.tls) || !mapping.spec.tls.secretName)) {
    errors.add('spec.tls.secretName', 'must be set when spec.tls is given');
  }
  return errors.errors;
}

export function validateClusterDomainClaim(claim: ClusterDomainClaim): ValidationError[] {
  const errors = new ErrorCollector(describeObject('ClusterDomainClaim', { name: claim.metadata.name }));
  const nameProblem = domainNameProblem(claim.metadata.name);
  if (nameProblem) errors.add('metadata.name', `the name of a ClusterDomainClaim is the domain it claims: ${nameProblem}`);
  if (!isObject(claim.spec) || typeof claim.spec.namespace !== 'string' || claim.spec.namespace === '') {
    errors.add('spec.namespace', 'must be set to the namespace allowed to map this domain');
  }
  return errors.errors;
}
