import 'reflect-metadata';
import { isSubgraphName, loadConfig, SUBGRAPH_NAMES } from './common/config.js';
import { createLogger } from './common/logger.js';
import { startGatewayOnly, startSandboxOnly, startStack, startSubgraph } from './stack.js';

/**
 * `node dist/main.js`                 everything in one process (the embedded default)
 * `node dist/main.js gateway`         the gateway alone (subgraph URLs from the supergraph or <NAME>_URL)
 * `node dist/main.js subgraph <name>` one subgraph alone (sandbox in process, or SANDBOX_URL)
 * `node dist/main.js sandbox`         the sandbox systems and their control API alone
 */
const config = loadConfig();
const logger = createLogger({ level: config.logLevel });
const [mode = 'all', name] = process.argv.slice(2);

async function main(): Promise<() => Promise<void>> {
  switch (mode) {
    case 'all': {
      const stack = await startStack({ config, logger });
      logger.info({ urls: stack.urls }, 'retail supergraph ready');
      process.stderr.write(
        [
          '',
          `  Retail supergraph is up.`,
          `  Gateway    ${stack.urls.gateway}`,
          ...SUBGRAPH_NAMES.map((n) => `  ${n.padEnd(10)} ${stack.urls.subgraphs[n]}`),
          `  Sandbox    ${stack.urls.sandbox}/sandbox/faults , /sandbox/calls`,
          '',
        ].join('\n') + '\n',
      );
      return stack.stop;
    }
    case 'gateway': {
      const { url, service } = await startGatewayOnly(config, logger.child({ service: 'gateway' }));
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
    setTimeout(() => process.exit(1), 100).unref();
  },
);
