import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { clusterTools, startKnativeCluster } from './knative-cluster.js';

/*
 * `make cluster-demo`: Knative Serving on this machine with Ferry as its ingress (test/cluster/knative-cluster.ts),
 * left running until Ctrl-C, with the commands to use it printed. Run as root (network namespaces).
 */

const started = Date.now();
const cluster = await startKnativeCluster({
  logger: createLogger({ level: process.env.FERRY_DEMO_LOG_LEVEL ?? 'warn' }),
  progress: (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`),
  configNetwork: process.env.FERRY_DEMO_AUTOCREATE_CLAIMS ? { 'autocreate-cluster-domain-claims': 'true' } : {},
});
const env = join(cluster.dir, 'env.sh');
const client = cluster.network.hub.replace(/-hub$/, '-client');
writeFileSync(env, [
  `export KUBECONFIG=${cluster.kube.kubeconfig}`,
  `alias kn='${clusterTools().KN}'`,
  `# curl through the gateways runs inside the cluster's client network namespace:`,
  `alias cluster-curl='ip netns exec ${client} curl'`,
  '',
].join('\n'));
console.log(`
Knative Serving is running with Ferry as its ingress (${((Date.now() - started) / 1000).toFixed(0)} s to start).

  source ${env}          # KUBECONFIG for kubectl and kn; cluster-curl runs curl inside the cluster network
  kubectl apply -f examples/getting-started/hello-world.yaml
  kn service list
  cluster-curl -H "Host: hello.default.example.com" http://10.215.0.10     # the external gateway
  cluster-curl http://hello.default.svc.cluster.local                      # the cluster-local gateway

Logs: ${cluster.dir} (components) and ${join(cluster.dir, 'logs')} (Pods). Ctrl-C stops everything.
`);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return console.error('still stopping (Pods get their grace period, at most 2 s here)...');
  stopping = true;
  console.error('stopping...');
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
