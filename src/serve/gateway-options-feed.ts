import type { Logger } from '../log.js';
import { parseGatewayOptions } from '../model/gateway-options.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './reconciler.js';

/**
 * Hands the gateway options of config-ferry (`key`: 'namespace/config-ferry', as the Store holds it) to the reconciler
 * now and at every change; the reconciler's next pass rebuilds the listeners with them. What reaches the Store passed
 * validation (an invalid config-ferry keeps its last good version), so parsing finds no problem here. FERRY_* keys are
 * process flags: a change to them is pointed out, it takes a restart.
 */
export function followGatewayOptions(store: Store, reconciler: Reconciler, key: string, logger: Logger): () => void {
  let previous: Record<string, string> = {};
  const apply = (): void => {
    const data = store.get('ConfigMap', key)?.data ?? {};
    reconciler.setGatewayOptions(parseGatewayOptions(data).value);
    const changed = [...new Set([...Object.keys(previous), ...Object.keys(data)])].filter((k) => previous[k] !== data[k] && !k.startsWith('_')).sort();
    previous = data;
    const flags = changed.filter((k) => k.startsWith('FERRY_'));
    const options = changed.filter((k) => !k.startsWith('FERRY_'));
    if (options.length > 0) logger.info({ configMap: key, options }, 'gateway options changed; the gateways get them with the next configuration');
    if (flags.length > 0) logger.warn({ configMap: key, flags }, 'FERRY_* keys are process flags, read from the environment at start: restart Ferry to apply them');
  };
  apply();
  return store.onChange((changes) => {
    if (changes.some((change) => change.kind === 'ConfigMap' && change.key === key)) apply();
  });
}
