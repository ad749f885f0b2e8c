import { ApiException, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { isExternalRule, isFerryClass, type KIngress } from '../model/ingress.js';
import type { Condition } from '../model/meta.js';
import type { DomainMapping, Route } from '../model/serving.js';
import { readyOf, type ObjectRow } from '../status/views.js';

export type GetKind = 'ingresses' | 'routes' | 'domainmappings';

/** Where each kind lives on the API server. */
const RESOURCES: Record<GetKind, { group: string; version: string; plural: string }> = {
  ingresses: { group: 'networking.internal.knative.dev', version: 'v1alpha1', plural: 'ingresses' },
  routes: { group: 'serving.knative.dev', version: 'v1', plural: 'routes' },
  domainmappings: { group: 'serving.knative.dev', version: 'v1beta1', plural: 'domainmappings' },
};

/** Objects per list call: a cluster with 10k KIngresses is read in pages, not in one answer of tens of megabytes. */
const PAGE_SIZE = 500;

/** A KIngress of another class, or without one, is not Ferry's (as `ferry serve --source kube` reads them). */
export function isFerryIngress(ingress: KIngress): boolean {
  return isFerryClass(ingress.metadata, false);
}

/**
 * The row `ferry get ingresses` shows for a KIngress read from the API server: the same fields as the admin endpoint's
 * row, with the status the object carries (written by the Ferry replica holding the Lease).
 */
export function ingressRowFromObject(ingress: KIngress): ObjectRow {
  const conditions = ingress.status?.conditions ?? [];
  const rules = ingress.spec?.rules ?? [];
  const host = urlHost(rules);
  const namespace = ingress.metadata.namespace ?? '';
  return {
    kind: 'Ingress', namespace, name: ingress.metadata.name,
    url: host ? `${ingress.spec?.tls?.some((tls) => tls.hosts?.includes(host)) ? 'https' : 'http'}://${host}` : '',
    ...readyOf(conditions), conditions,
    origin: { kind: 'Ingress', namespace, name: ingress.metadata.name },
    hosts: rules.flatMap((rule) => rule.hosts ?? []),
    // A copy: the row's conditions and status.conditions must not be one array, which YAML would print as an alias.
    status: structuredClone(ingress.status ?? {}),
  };
}

/** The row of a Route or DomainMapping read from the API server: its URL and readiness as Knative Serving wrote them. */
export function knativeRowFromObject(object: Route | DomainMapping): ObjectRow {
  const conditions: Condition[] = object.status?.conditions ?? [];
  const status: Route['status'] = object.status;
  const traffic = status?.traffic;
  return {
    kind: object.kind, namespace: object.metadata.namespace ?? '', name: object.metadata.name, url: status?.url ?? '',
    ...readyOf(conditions), conditions,
    ...(status?.address ? { address: status.address } : {}),
    ...(traffic ? { traffic } : {}),
  };
}

/** The rows of the listed objects of `kind`, less the KIngresses of another class. */
export function rowsFromObjects(kind: GetKind, items: readonly unknown[]): ObjectRow[] {
  if (kind === 'ingresses') return (items as KIngress[]).filter(isFerryIngress).map(ingressRowFromObject);
  const objectKind = kind === 'routes' ? 'Route' : 'DomainMapping';
  return (items as Array<Route | DomainMapping>).map((item) => knativeRowFromObject({ ...item, kind: objectKind } as Route | DomainMapping));
}

export interface KubeGetOptions {
  kubeconfig: string;
  kind: GetKind;
  /** undefined: all namespaces. */
  namespace: string | undefined;
}

/** The kubeconfig of `ferry get --kubeconfig`, with the namespace of its current context (kubectl's default for -n). */
export function loadKubeconfig(path: string): { config: KubeConfig; server: string; namespace: string } {
  const config = new KubeConfig();
  try {
    config.loadFromFile(path);
  } catch (error) {
    throw new Error(`cannot read the kubeconfig ${path}: ${(error as Error).message}; check --kubeconfig`);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error(`the kubeconfig ${path} has no current context with a cluster; set one with \`kubectl config use-context\``);
  return { config, server: cluster.server, namespace: config.getContextObject(config.getCurrentContext())?.namespace ?? 'default' };
}

/** Lists `kind` from the API server the kubeconfig names, page by page, as `ferry get` rows. */
export async function listFromApiServer(options: KubeGetOptions): Promise<ObjectRow[]> {
  const { config, server } = loadKubeconfig(options.kubeconfig);
  const api = config.makeApiClient(CustomObjectsApi);
  const resource = RESOURCES[options.kind];
  const rows: ObjectRow[] = [];
  let next: string | undefined;
  do {
    const request = { ...resource, limit: PAGE_SIZE, _continue: next };
    let page: { items?: unknown[]; metadata?: { continue?: string } };
    try {
      page = options.namespace === undefined
        ? await api.listClusterCustomObject(request)
        : await api.listNamespacedCustomObject({ ...request, namespace: options.namespace });
    } catch (error) {
      throw new Error(apiErrorMessage(error, server, options));
    }
    rows.push(...rowsFromObjects(options.kind, page.items ?? []));
    next = page.metadata?.continue || undefined;
  } while (next !== undefined);
  return rows;
}

/** What went wrong, and what to do about it. */
export function apiErrorMessage(error: unknown, server: string, options: KubeGetOptions): string {
  const { group, version, plural } = RESOURCES[options.kind];
  const resource = `${plural}.${group}/${version}`;
  if (!(error instanceof ApiException)) return `cannot reach the API server at ${server}: ${(error as Error).message}; check --kubeconfig ${options.kubeconfig}`;
  const code = (error as ApiException<unknown>).code;
  const message = statusMessage((error as ApiException<unknown>).body);
  if (code === 401) return `the API server at ${server} refused the credentials of ${options.kubeconfig} (401 Unauthorized); check --kubeconfig (an expired token?)`;
  if (code === 403) return `not allowed to list ${resource}${options.namespace === undefined ? ' in all namespaces' : ` in ${options.namespace}`}: ${message}; ask for list permission${options.namespace === undefined ? ' or pass -n NAMESPACE' : ''}`;
  if (code === 404) return `the API server at ${server} does not serve ${resource} (404); is Knative Serving installed?`;
  return `the API server at ${server} answered ${code} to the list of ${resource}: ${message}`;
}

/** The message of a Kubernetes Status body, else the body itself (shortened). */
function statusMessage(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body) ?? '';
  try {
    const status = JSON.parse(text) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // Not JSON: the raw text says it.
  }
  return text.slice(0, 300);
}

/** The host a person would use: the first external one, else the fully qualified cluster-local one (as kn shows). */
function urlHost(rules: NonNullable<KIngress['spec']['rules']>): string | undefined {
  const external = rules.find(isExternalRule)?.hosts?.[0];
  if (external) return external;
  const local = rules.flatMap((rule) => rule.hosts ?? []);
  return local.find((host) => host.endsWith('.svc.cluster.local')) ?? local[0];
}
