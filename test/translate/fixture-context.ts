import { parseAllDocuments } from 'yaml';
import type { KIngress } from '../../src/model/ingress.js';
import { SERVICE_NAME_LABEL, type EndpointSlice, type Secret, type Service } from '../../src/model/kube.js';
import type { KubeObject } from '../../src/model/meta.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig, type TranslateContext } from '../../src/translate/envoy/config.js';

/** The objects of a multi-document YAML fixture, indexed the way the store answers translation's lookups. */
export interface Fixture {
  ingresses: KIngress[];
  ctx: TranslateContext;
}

export function loadFixture(yamlText: string, config: Partial<TranslateConfig> = {}): Fixture {
  const objects = parseAllDocuments(yamlText)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
  const key = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
  const services = new Map<string, Service>();
  const secrets = new Map<string, Secret>();
  const slices = new Map<string, EndpointSlice[]>();
  const ingresses: KIngress[] = [];
  for (const object of objects) {
    const { namespace, name } = object.metadata;
    if (object.kind === 'Ingress') ingresses.push(object as KIngress);
    else if (object.kind === 'Service') services.set(key(namespace, name), object as Service);
    else if (object.kind === 'Secret') secrets.set(key(namespace, name), object as Secret);
    else if (object.kind === 'EndpointSlice') {
      const serviceKey = key(namespace, object.metadata.labels?.[SERVICE_NAME_LABEL] ?? '');
      slices.set(serviceKey, [...(slices.get(serviceKey) ?? []), object as EndpointSlice]);
    } else throw new Error(`fixture: unexpected kind ${object.kind} (${key(namespace, name)})`);
  }
  return {
    ingresses,
    ctx: {
      config: { ...DEFAULT_TRANSLATE_CONFIG, ...config },
      service: (namespace, name) => services.get(key(namespace, name)),
      endpointSlices: (namespace, serviceName) => slices.get(key(namespace, serviceName)) ?? [],
      secret: (namespace, name) => secrets.get(key(namespace, name)),
    },
  };
}
