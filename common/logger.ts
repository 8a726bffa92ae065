import { pino, type Logger } from 'pino';
import { currentCorrelationId } from './correlation.js';

export type { Logger };

/**
 * One JSON line per event. The mixin stamps the correlation id of the request in scope on every line, so
 * no call site has to remember it.
 */
export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      ...(options.name ? { name: options.name } : {}),
      base: { pid: process.pid },
      mixin() {
        const correlationId = currentCorrelationId();
        return correlationId ? { correlationId } : {};
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
