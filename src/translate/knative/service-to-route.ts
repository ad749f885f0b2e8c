import type { KnativeService, Route } from '../../model/serving.js';
import { LAST_APPLIED_ANNOTATION, SERVICE_LABEL } from '../../model/serving.js';
import type { RevisionProtocol } from './traffic.js';

/**
 * Files mode has no revision controller, so a Knative Service's latest revision is named by rule: the name its
 * template gives (`spec.template.metadata.name`, e.g. hello-world), else Knative's first generated name
 * `<service>-00001`. The revision's public Service (and its endpoints) must exist under that name.
 */
export function latestRevisionName(service: KnativeService): string {
  return service.spec.template?.metadata?.name ?? `${service.metadata.name}-00001`;
}

/** Knative speaks h2c to a revision whose container port is named "h2c". */
export function revisionProtocol(service: KnativeService): RevisionProtocol {
  const ports = service.spec.template?.spec?.containers?.flatMap((c) => c.ports ?? []) ?? [];
  return ports.some((p) => p.name === 'h2c') ? 'h2c' : 'http1';
}

/** Knative's service resources.MakeRoute: same name, the Service's labels plus serving.knative.dev/service. */
export function serviceToRoute(service: KnativeService): Route {
  const { name, namespace } = service.metadata;
  const traffic = service.spec.traffic && service.spec.traffic.length > 0 ? service.spec.traffic : [{ latestRevision: true, percent: 100 }];
  const annotations = { ...(service.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED_ANNOTATION];
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Route',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { ...(service.metadata.labels ?? {}), [SERVICE_LABEL]: name },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: { traffic: traffic.map((t) => (t.revisionName ? { ...t } : { ...t, configurationName: name })) },
  };
}
