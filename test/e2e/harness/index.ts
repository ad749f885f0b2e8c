/** The end-to-end test harness: import from here. */
export { startHttpBackend, type BackendAnswer, type HttpBackend, type HttpBackendOptions } from './backend.js';
export { envoyLogTails, startEnvoy, startStaticEnvoy, stopAllEnvoys, stopEnvoy, type StartEnvoyOptions } from './envoy.js';
export { printEnvoyLogsOnFailure } from './failure-logs.js';
export { backendOf, localPortOf, request, type HttpResult } from './http-client.js';
export { loadLoop, type LoadFailure, type LoadLoop, type LoadLoopOptions, type LoadResult } from './load.js';
export { freePort } from './ports.js';
export { invalidCluster, testEdsCluster, testListener, testLoadAssignment, testRouteConfiguration } from './resources.js';
export { waitFor } from './wait.js';
export { startFerry, type FerryUnderTest, type StartFerryOptions } from './ferry.js';
