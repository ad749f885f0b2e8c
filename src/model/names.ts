/** Kubernetes name and DNS rules (k8s.io/apimachinery validation), as plain predicates returning a reason or undefined. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return `"${value}" is longer than 63 characters`;
  if (!DNS1123_LABEL.test(value)) return `"${value}" must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character`;
  return undefined;
}

export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length > 63) return `"${value}" is longer than 63 characters`;
  if (!DNS1035_LABEL.test(value)) return `"${value}" must consist of lower case alphanumeric characters or '-', start with a letter and end with an alphanumeric character`;
  return undefined;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return `"${value}" is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(value)) return `"${value}" must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character`;
  return undefined;
}

/** A fully qualified domain name: a DNS-1123 subdomain with at least two labels. */
export function domainNameProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  const problem = dns1123SubdomainProblem(value);
  if (problem) return problem;
  if (!value.includes('.')) return `"${value}" must be a fully qualified domain name with at least two labels`;
  return undefined;
}
