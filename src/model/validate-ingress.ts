import type { IngressBackendSplit, KIngress } from './ingress.js';
import { dns1123LabelProblem, dns1123SubdomainProblem, headerNameProblem, headerValueProblem, ingressHostProblem, urlPathProblem } from './names.js';
import { ErrorCollector, describeObject, type ValidationError } from './validation-error.js';

/** The rules of Knative's webhook for networking.internal.knative.dev/v1alpha1 Ingress. */
export function validateKIngress(ingress: KIngress): ValidationError[] {
  const errors = new ErrorCollector(describeObject('Ingress', ingress.metadata));
  const spec = ingress.spec;
  if (!isObject(spec)) {
    errors.add('spec', 'must be set');
    return errors.errors;
  }
  if (!Array.isArray(spec.rules) || spec.rules.length === 0) errors.add('spec.rules', 'must not be empty: give at least one rule with hosts and http paths');
  (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule, r) => {
    const at = `spec.rules[${r}]`;
    if (!isObject(rule)) return errors.add(at, 'must be an object');
    if (!Array.isArray(rule.hosts) || rule.hosts.length === 0) errors.add(`${at}.hosts`, 'must not be empty');
    else rule.hosts.forEach((host, h) => validateHost(host, `${at}.hosts[${h}]`, errors));
    if (rule.visibility !== undefined && rule.visibility !== 'ExternalIP' && rule.visibility !== 'ClusterLocal') {
      errors.add(`${at}.visibility`, `"${String(rule.visibility)}" is not one of ExternalIP, ClusterLocal`);
    }
    if (!isObject(rule.http)) return errors.add(`${at}.http`, 'must be set');
    if (!Array.isArray(rule.http.paths) || rule.http.paths.length === 0) return errors.add(`${at}.http.paths`, 'must not be empty');
    rule.http.paths.forEach((path, p) => {
      const pathAt = `${at}.http.paths[${p}]`;
      if (!isObject(path)) return errors.add(pathAt, 'must be an object');
      if (path.path !== undefined && path.path !== '') {
        const problem = typeof path.path === 'string' ? urlPathProblem(path.path) : 'must be a string';
        if (problem) errors.add(`${pathAt}.path`, problem);
      }
      for (const [name, match] of mapAt(path.headers, `${pathAt}.headers`, errors) as Array<[string, { exact?: unknown }]>) {
        const problem = headerNameProblem(name, false);
        if (problem) errors.add(`${pathAt}.headers[${name}]`, problem);
        else if (!isObject(match) || typeof match.exact !== 'string' || match.exact === '') errors.add(`${pathAt}.headers[${name}].exact`, 'must be set');
        else validateHeaderValue(match.exact, `${pathAt}.headers[${name}].exact`, errors);
      }
      if (path.rewriteHost !== undefined && path.rewriteHost !== '') {
        const problem = typeof path.rewriteHost === 'string' ? dns1123SubdomainProblem(path.rewriteHost) : 'must be a string';
        if (problem) errors.add(`${pathAt}.rewriteHost`, problem);
      }
      validateAppendHeaders(path.appendHeaders, `${pathAt}.appendHeaders`, errors);
      if (!Array.isArray(path.splits) || path.splits.length === 0) return errors.add(`${pathAt}.splits`, 'must not be empty: give at least one backend');
      let total = 0;
      path.splits.forEach((split, s) => {
        validateSplit(split, `${pathAt}.splits[${s}]`, errors);
        total += typeof split?.percent === 'number' ? split.percent : 0;
      });
      // One split may omit its percent (it then takes 100%); otherwise the percents must add up to 100.
      if (!(path.splits.length === 1 && total === 0) && total !== 100) {
        errors.add(`${pathAt}.splits`, `percents must total 100, but total ${total}`);
      }
    });
  });
  if (spec.tls !== undefined && !Array.isArray(spec.tls)) errors.add('spec.tls', 'must be a list');
  (Array.isArray(spec.tls) ? spec.tls : []).forEach((tls, t) => {
    const at = `spec.tls[${t}]`;
    if (!isObject(tls)) return errors.add(at, 'must be an object');
    if (typeof tls.secretName !== 'string' || tls.secretName === '') errors.add(`${at}.secretName`, 'must be set');
    if (typeof tls.secretNamespace !== 'string' || tls.secretNamespace === '') errors.add(`${at}.secretNamespace`, 'must be set');
    if (tls.hosts !== undefined && !Array.isArray(tls.hosts)) errors.add(`${at}.hosts`, 'must be a list');
    else (tls.hosts ?? []).forEach((host, h) => validateHost(host, `${at}.hosts[${h}]`, errors));
  });
  if (spec.httpOption !== undefined && spec.httpOption !== 'Enabled' && spec.httpOption !== 'Redirected') {
    errors.add('spec.httpOption', `"${String(spec.httpOption)}" is not one of Enabled, Redirected`);
  }
  return errors.errors;
}

function validateSplit(split: IngressBackendSplit, at: string, errors: ErrorCollector): void {
  if (!isObject(split)) return errors.add(at, 'must be an object');
  if (split.percent !== undefined && (typeof split.percent !== 'number' || !Number.isInteger(split.percent) || split.percent < 0 || split.percent > 100)) {
    errors.add(`${at}.percent`, `${JSON.stringify(split.percent)} must be an integer from 0 to 100`);
  }
  if (typeof split.serviceNamespace !== 'string' || split.serviceNamespace === '') errors.add(`${at}.serviceNamespace`, 'must be set');
  else {
    const problem = dns1123LabelProblem(split.serviceNamespace);
    if (problem) errors.add(`${at}.serviceNamespace`, problem);
  }
  if (typeof split.serviceName !== 'string' || split.serviceName === '') errors.add(`${at}.serviceName`, 'must be set');
  const port: unknown = split.servicePort;
  if (!(typeof port === 'string' ? port !== '' : Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) {
    errors.add(`${at}.servicePort`, 'must be set to a port number (1 to 65535) or a port name of the Service');
  }
  validateAppendHeaders(split.appendHeaders, `${at}.appendHeaders`, errors);
}

function validateHost(host: unknown, at: string, errors: ErrorCollector): void {
  const problem = typeof host === 'string' ? ingressHostProblem(host) : 'must be a non-empty host name';
  if (problem) errors.add(at, problem);
}

/** Headers a path or split sets (they overwrite what the client sent): Envoy rejects a bad name or value outright. */
function validateAppendHeaders(headers: unknown, at: string, errors: ErrorCollector): void {
  for (const [name, value] of mapAt(headers, at, errors)) {
    const problem = headerNameProblem(name, true);
    if (problem) errors.add(`${at}[${name}]`, problem);
    else if (typeof value !== 'string') errors.add(`${at}[${name}]`, 'must be a string (quote numbers and booleans)');
    else validateHeaderValue(value, `${at}[${name}]`, errors);
  }
}

function validateHeaderValue(value: string, at: string, errors: ErrorCollector): void {
  const problem = headerValueProblem(value);
  if (problem) errors.add(at, problem);
}

/** A map field's entries, or none (with an error when it is there but not a map). */
function mapAt(value: unknown, at: string, errors: ErrorCollector): Array<[string, unknown]> {
  if (value === undefined || value === null) return [];
  if (isObject(value)) return Object.entries(value);
  errors.add(at, 'must be a map');
  return [];
}

export function isObject<T>(value: T): value is T & object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
