import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { kubeTools } from '../kube/harness/cluster.js';
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
// The gateways on the host's loopback too, so that curl works as Knative's docs show it: a relay in each gateway's
// namespace on a unix socket, and one on 127.0.0.1 to it.
const ports = { external: Number(process.env.FERRY_DEMO_EXTERNAL_PORT ?? 8080), local: Number(process.env.FERRY_DEMO_LOCAL_PORT ?? 8081) };
for (const [role, namespace, port] of [['external', cluster.namespaces.externalGateway, ports.external], ['local', cluster.namespaces.localGateway, ports.local]] as const) {
  const socket = join(cluster.dir, `${role}-gateway.sock`);
  await cluster.network.relay({ in: namespace, listen: socket, connect: '127.0.0.1:80', name: `${role} gateway relay (namespace)` });
  await cluster.network.relay({ listen: `127.0.0.1:${port}`, connect: socket, name: `${role} gateway relay (host)` });
}
const env = join(cluster.dir, 'env.sh');
writeFileSync(env, [
  `export KUBECONFIG=${cluster.kube.kubeconfig}`,
  `alias kn='${clusterTools().KN}'`,
  `command -v kubectl >/dev/null || alias kubectl='${kubeTools().KUBECTL}'`,
  `# curl from inside the cluster network (cluster DNS names resolve there, as in a Pod):`,
  `alias cluster-curl='ip netns exec ${cluster.namespaces.client} curl'`,
  '',
].join('\n'));
console.log(`
Knative Serving is running with Ferry as its ingress (${((Date.now() - started) / 1000).toFixed(0)} s to start).

  source ${env}    # KUBECONFIG for kubectl and kn; cluster-curl runs curl inside the cluster network
  kubectl apply -f examples/getting-started/hello-world.yaml
  kn service list
  curl -H "Host: hello.default.example.com" http://127.0.0.1:${ports.external}   # the external gateway (10.215.0.10 inside)
  curl -H "Host: hello.default.svc.cluster.local" http://127.0.0.1:${ports.local}   # the cluster-local gateway
  cluster-curl http://hello.default.svc.cluster.local            # as a Pod would, through cluster DNS

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
