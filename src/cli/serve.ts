import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { repositoryRoot, type XdsMode } from '../envoy/bootstrap.js';
import { Ferry } from '../serve/ferry.js';
import { HELPER_THREADS_NICENESS, lowerHelperThreadPriority } from '../serve/thread-priority.js';
import { collectGarbageOnceSynced, releaseMemory } from './collect-after-sync.js';
import { limitHeapGrowth } from './heap-growth.js';
import { parseHostPort, parsePort, UsageError } from './args.js';
import { TRANSLATE_FLAG_OPTIONS, TRANSLATE_FLAGS_USAGE, translateConfigFromFlags } from './translate-flags.js';

export const SERVE_USAGE = `Usage: ferry serve [flags]

Runs the control plane: reads Knative manifests from a directory (files mode), serves them to Envoy over xDS,
and by default runs a local gateway Envoy that serves both roles.

Flags:
  --manifests DIR            manifests to serve (default: the bundled examples/hello)
  --envoy managed|none       run a local Envoy (default managed), or the control plane alone
  --xds-mode delta|sotw      protocol of the managed Envoy (default delta)
  --xds-address HOST:PORT    xDS gRPC listen address (default 127.0.0.1:18000)
  --admin-address HOST:PORT  Ferry's admin HTTP address (default 127.0.0.1:18001)
  --envoy-admin-port PORT    the managed Envoy's admin port on 127.0.0.1 (default 9901)
${TRANSLATE_FLAGS_USAGE}  --log-level LEVEL          trace|debug|info|warn|error (default info; FERRY_LOG_LEVEL)
`;

export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      manifests: { type: 'string' },
      'xds-mode': { type: 'string', default: 'delta' },
      'xds-address': { type: 'string', default: '127.0.0.1:18000' },
      'admin-address': { type: 'string', default: '127.0.0.1:18001' },
      'envoy-admin-port': { type: 'string', default: '9901' },
      ...TRANSLATE_FLAG_OPTIONS,
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  if (values['xds-mode'] !== 'delta' && values['xds-mode'] !== 'sotw') throw new UsageError(`--xds-mode ${values['xds-mode']}: expected delta or sotw`);
  const logger = createLogger({ level: values['log-level'] });
  const translateConfig = translateConfigFromFlags(values);
  const ferry = new Ferry({
    manifests: resolve(values.manifests ?? resolve(repositoryRoot(), 'examples', 'hello')),
    xdsAddress: values['xds-address'],
    adminAddress: parseHostPort('--admin-address', values['admin-address']),
    translateConfig,
    envoy: values.envoy === 'none' ? 'none' : { mode: values['xds-mode'] as XdsMode, adminPort: parsePort('--envoy-admin-port', values['envoy-admin-port']) },
    logger,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    ferry.stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'error while stopping');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (values.envoy !== 'none') {
    // The managed Envoy serves traffic and applies what Ferry sends: Ferry's background threads give it the CPU first.
    const lowered = lowerHelperThreadPriority();
    logger.debug({ threads: lowered.length, niceness: HELPER_THREADS_NICENESS }, 'Ferry\'s helper threads run at a lower priority than its Envoy');
  }
  await ferry.start();
  collectGarbageOnceSynced(ferry.xds, () => ferry.view.synced().synced, () => {
    limitHeapGrowth();
    const started = process.cpuUsage();
    void releaseMemory().then(() => {
      const { user, system } = process.cpuUsage(started);
      logger.info({ cpuMs: Math.round((user + system) / 1000), rssMb: Math.round(process.memoryUsage.rss() / 2 ** 20) }, 'gateways in sync: the first pass\'s garbage collected and memory given back');
    });
  });
  const ports = translateConfig.ports;
  logger.info(`ready: try  curl -H "Host: hello.default.example.com" localhost:${ports.external.http}   (admin: http://127.0.0.1:${ferry.adminPort}/debug/status)`);
}
