import 'reflect-metadata';
import { isSubgraphName, loadConfig, SUBGRAPH_NAMES } from './common/config.js';
import { createLogger } from './common/logger.js';
import { createGatewayCluster } from './gateway/cluster.js';
import { Metrics } from './common/telemetry/metrics.js';
import { startBackend, startGatewayOnly, startSandboxOnly, startStack, startSubgraph } from './stack.js';

/**
 * `node dist/main.js`                 everything in one process (the embedded default)
 * `node dist/main.js gateway`         the gateway alone (subgraph URLs from the supergraph or <NAME>_URL)
 * `node dist/main.js subgraph <name>` one subgraph alone (sandbox in process, or SANDBOX_URL)
 * `node dist/main.js sandbox`         the sandbox systems and their control API alone
 *
 * With GATEWAY_WORKERS=N > 1, `all` and `gateway` run the gateway in N worker processes on the one port (see
 * gateway/cluster.ts); `all` keeps the sandbox and the subgraphs in this process.
 */
const config = loadConfig();
const logger = createLogger({ level: config.logLevel });
const [mode = 'all', name] = process.argv.slice(2);
const gatewayLogger = logger.child({ service: 'gateway' });
const workers = config.gatewayWorkers > 1 ? createGatewayCluster({ workers: config.gatewayWorkers, logger: gatewayLogger, startGateway: () => startGatewayOnly(config, gatewayLogger) }) : undefined;

/** The process's registry, with Node's own series; none with METRICS_ENABLED=false. */
const metricsOfProcess = (): Metrics | undefined => (config.telemetry.metrics ? new Metrics({ processMetrics: true }) : undefined);

/** Spans exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; the SDK is not even loaded otherwise. */
async function startTracingFor(): Promise<() => Promise<void>> {
  const { otlpEndpoint, sampleRatio, serviceName } = config.telemetry;
  if (!otlpEndpoint) return async () => undefined;
  const { startTracing } = await import('./common/telemetry/tracing-sdk.js');
  const tracing = startTracing({ serviceName: serviceName ?? `retail-${mode === 'subgraph' && name ? name : mode}`, otlpEndpoint, sampleRatio });
  logger.info({ otlpEndpoint, sampleRatio }, 'tracing on');
  return () => tracing.stop();
}

async function main(): Promise<() => Promise<void>> {
  const stopTracing = await startTracingFor();
  const stop = await startMode();
  return async () => {
    await stop();
    await stopTracing();
  };
}

async function startMode(): Promise<() => Promise<void>> {
  if (workers?.isWorker) return (await workers.serve()).stop;
  switch (mode) {
    case 'all': {
      let urls: { gateway: string; sandbox: string; subgraphs: Record<string, string> };
      let stop: () => Promise<void>;
      if (workers) {
        const backend = await startBackend({ config, logger, metrics: metricsOfProcess() });
        const gateways = await workers.startBeside(backend);
        ({ stop } = gateways);
        urls = { ...backend.urls, gateway: gateways.url };
      } else {
        const stack = await startStack({ config, logger, metrics: metricsOfProcess() });
        ({ urls, stop } = stack);
      }
      logger.info({ urls }, 'retail supergraph ready');
      process.stderr.write(
        [
          '',
          `  Retail supergraph is up.`,
          `  Gateway    ${urls.gateway}${workers ? ` (${config.gatewayWorkers} workers)` : ''}`,
          ...SUBGRAPH_NAMES.map((n) => `  ${n.padEnd(10)} ${urls.subgraphs[n]}`),
          `  Sandbox    ${urls.sandbox}/sandbox/faults , /sandbox/calls`,
          '',
        ].join('\n') + '\n',
      );
      return stop;
    }
    case 'gateway': {
      if (workers) {
        const { url } = await workers.start();
        logger.info({ url, workers: config.gatewayWorkers }, 'gateway ready');
        return workers.stop;
      }
      const { url, service } = await startGatewayOnly(config, gatewayLogger);
      logger.info({ url }, 'gateway ready');
      return () => service.stop();
    }
    case 'subgraph': {
      if (!name || !isSubgraphName(name)) throw new Error(`usage: main.js subgraph <${SUBGRAPH_NAMES.join('|')}>`);
      const { url, service } = await startSubgraph(name, config, logger.child({ service: name }));
      logger.info({ url, subgraph: name }, 'subgraph ready');
      return () => service.stop();
    }
    case 'sandbox': {
      const { url, service } = await startSandboxOnly(config, logger.child({ service: 'sandbox' }));
      logger.info({ url }, 'sandbox ready');
      return () => service.stop();
    }
    default:
      throw new Error(`unknown mode "${mode}": use all, gateway, subgraph <name> or sandbox`);
  }
}

main().then(
  (stop) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'draining and shutting down');
      stop().then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          logger.flush();
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  },
  (error: unknown) => {
    logger.fatal({ err: error }, 'failed to start');
    logger.flush();
    process.exitCode = 1;
    // A cluster worker's channel to its primary would keep it alive: leave without waiting for it.
    const timer = setTimeout(() => process.exit(1), 100);
    if (!workers?.isWorker) timer.unref();
  },
);
