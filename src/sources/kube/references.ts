import type { KIngress } from '../../model/ingress.js';
import { flatJoin } from '../../model/meta.js';

/** The Services and Secrets one KIngress names. */
export interface IngressReferences {
  services: string[];
  secrets: string[];
}

export function referencesOf(ingress: KIngress): IngressReferences {
  const services = new Set<string>();
  for (const rule of ingress.spec.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      for (const split of path.splits ?? []) services.add(flatJoin('/', split.serviceNamespace, split.serviceName));
    }
  }
  const secrets = new Set((ingress.spec.tls ?? []).map((tls) => flatJoin('/', tls.secretNamespace, tls.secretName)));
  return { services: [...services], secrets: [...secrets] };
}

/**
 * Which Services and Secrets Ferry's KIngresses name (plus those it always needs: the activator, the default
 * certificate), counted, so that the kube source keeps exactly those: it learns which ones start or stop being
 * needed as KIngresses come, change and go.
 */
export class ReferenceCounts {
  private readonly byIngress = new Map<string, IngressReferences>();
  private readonly services = new Map<string, number>();
  private readonly secrets = new Map<string, number>();

  constructor(private readonly always: { services: readonly string[]; secrets: readonly string[] }) {}

  hasService(key: string): boolean {
    return this.services.has(key) || this.always.services.includes(key);
  }

  hasSecret(key: string): boolean {
    return this.secrets.has(key) || this.always.secrets.includes(key);
  }

  /** Records what a KIngress names now (undefined: it is gone); returns what became needed and what no longer is. */
  set(ingressKey: string, references: IngressReferences | undefined): { added: IngressReferences; removed: IngressReferences } {
    const before = this.byIngress.get(ingressKey) ?? { services: [], secrets: [] };
    const after = references ?? { services: [], secrets: [] };
    if (references) this.byIngress.set(ingressKey, references);
    else this.byIngress.delete(ingressKey);
    const added: IngressReferences = { services: [], secrets: [] };
    const removed: IngressReferences = { services: [], secrets: [] };
    // Counted up before down: a key the KIngress names before and after never drops to zero on the way.
    for (const kind of ['services', 'secrets'] as const) {
      const counts = this[kind];
      const always = this.always[kind];
      for (const key of after[kind]) {
        const n = counts.get(key) ?? 0;
        counts.set(key, n + 1);
        if (n === 0 && !always.includes(key)) added[kind].push(key);
      }
      for (const key of before[kind]) {
        const n = counts.get(key)! - 1;
        if (n > 0) counts.set(key, n);
        else {
          counts.delete(key);
          if (!always.includes(key)) removed[kind].push(key);
        }
      }
    }
    return { added, removed };
  }
}
