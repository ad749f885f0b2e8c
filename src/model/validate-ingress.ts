import type { IngressBackendSplit, KIngress } from './ingress.js';
import { dns1123LabelProblem } from './names.js';
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
    else rule.hosts.forEach((host, h) => { if (typeof host !== 'string' || host === '') errors.add(`${at}.hosts[${h}]`, 'must be a non-empty host name'); });
    if (rule.visibility !== undefined && rule.visibility !== 'ExternalIP' && rule.visibility !== 'ClusterLocal') {
      errors.add(`${at}.visibility`, `"${String(rule.visibility)}" is not one of ExternalIP, ClusterLocal`);
    }
    if (!isObject(rule.http)) return errors.add(`${at}.http`, 'must be set');
    if (!Array.isArray(rule.http.paths) || rule.http.paths.length === 0) return errors.add(`${at}.http.paths`, 'must not be empty');
    rule.http.paths.forEach((path, p) => {
      const pathAt = `${at}.http.paths[${p}]`;
      if (!isObject(path)) return errors.add(pathAt, 'must be an object');
      if (path.headers !== undefined) {
        for (const [name, match] of Object.entries(path.headers)) {
          if (!isObject(match) || typeof match.exact !== 'string' || match.exact === '') errors.add(`${pathAt}.headers[${name}].exact`, 'must be set');
        }
      }
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
  (Array.isArray(spec.tls) ? spec.tls : []).forEach((tls, t) => {
    const at = `spec.tls[${t}]`;
    if (!isObject(tls)) return errors.add(at, 'must be an object');
    if (typeof tls.secretName !== 'string' || tls.secretName === '') errors.add(`${at}.secretName`, 'must be set');
    if (typeof tls.secretNamespace !== 'string' || tls.secretNamespace === '') errors.add(`${at}.secretNamespace`, 'must be set');
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
  if (split.servicePort === undefined || split.servicePort === null || split.servicePort === '' || split.servicePort === 0) {
    errors.add(`${at}.servicePort`, 'must be set to a port number or a port name of the Service');
  }
}

export function isObject<T>(value: T): value is T & object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
