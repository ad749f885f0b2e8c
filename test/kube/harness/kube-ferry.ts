import { createLogger, silentLogger } from '../../../src/log.js';
import { FerryMetrics } from '../../../src/metrics.js';
import { Ferry } from '../../../src/serve/ferry.js';
import { DEFAULT_TRANSLATE_CONFIG, type TranslateConfig } from '../../../src/translate/envoy/index.js';
import type { KubeCluster } from './cluster.js';
import { startGateway, tempSocketPath, type Gateway } from './gateway.js';
import type { NetnsPair } from './netns.js';

/**
 * Ferry in kube mode, in this process, against the test cluster (status Lease of 3 s), with one gateway Envoy in the
 * gw namespace over a unix-socket xDS: what the kube-mode test files start in beforeAll.
 */
export async function startKubeFerry(cluster: KubeCluster, net: NetnsPair, options: { knativeTranslation?: boolean; translateConfig?: Partial<TranslateConfig> } = {}): Promise<{ ferry: Ferry; gateway: Gateway }> {
  const xdsSocket = tempSocketPath();
  const ferry = new Ferry({
    source: {
      kind: 'kube', kubeconfig: cluster.kubeconfig, systemNamespace: 'ferry-system', ...(options.knativeTranslation ? { knativeTranslation: true } : {}),
      status: { identity: 'ferry-test', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 400 },
    },
    xdsAddress: `unix:${xdsSocket}`,
    adminAddress: { host: '127.0.0.1', port: 0 },
    translateConfig: { ...DEFAULT_TRANSLATE_CONFIG, bindAddress: '0.0.0.0', ...options.translateConfig },
    envoy: 'none',
    logger: process.env.FERRY_TEST_LOGS ? createLogger({ level: 'debug', format: 'json' }) : silentLogger,
    metrics: new FerryMetrics({ processMetrics: false }),
  });
  await ferry.start();
  return { ferry, gateway: await startGateway({ net, xdsSocket }) };
}
