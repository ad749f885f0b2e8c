import type { KIngress } from '../../model/ingress.js';
import { objectKey } from '../../model/meta.js';
import type { TranslateContext } from './config.js';

/**
 * What a cached IngressTranslation depends on, as one string: the KIngress (uid, generation, creation
 * time; the spec changes only with the generation) and the resourceVersion of each Service it read
 * (`dependencies.services` of the previous translation). Equal keys mean translateIngress would return
 * the same result, under the same TranslateConfig.
 */
export function translationCacheKey(ingress: KIngress, dependencies: { services: readonly string[] }, ctx: TranslateContext): string {
  const { uid, generation, creationTimestamp } = ingress.metadata;
  const services = dependencies.services.map((key) => {
    const slash = key.indexOf('/');
    const service = ctx.service(key.slice(0, slash), key.slice(slash + 1));
    return `${key}@${service ? (service.metadata.resourceVersion ?? JSON.stringify(service.spec)) : 'absent'}`;
  });
  return [objectKey(ingress), uid ?? '', generation ?? JSON.stringify(ingress.spec), creationTimestamp ?? '', ...services].join('\n');
}
