/** The kube-mode test harness: a real kube-apiserver + etcd, network namespaces, a gateway Envoy and backends in them. */
export { apiGet, kubeTools, printKubeLogsOnFailure, startKubeCluster, type KubeCluster, type KubeClusterOptions, type KubectlResult } from './cluster.js';
export { createNetnsPair, GW_ADDRESS, ManagedProcess, POD_ADDRESS, type NetnsPair } from './netns.js';
export {
  gatewayBootstrap, gatewayLogTails, startGateway, stopAllGateways, tempSocketPath,
  type Gateway, type GatewayBootstrapValues, type GatewayRequest, type GatewayResponse, type StartGatewayOptions,
} from './gateway.js';
export { startPodBackend, stopAllPodBackends, type PodBackend, type PodBackendOptions } from './backends.js';
export { startGatewayForwarder, type GatewayForwarder } from './forwarder.js';
export { waitFor } from '../../e2e/harness/wait.js';
export { startKubeFerry } from './kube-ferry.js';
