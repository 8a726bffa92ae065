import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { currentCorrelationId } from './correlation.js';

export type { Logger };

/** How log lines are written: one JSON object a line (for machines), or one coloured, readable line (for people). */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /**
   * pino level.
   * @default `LOG_LEVEL`, else `info`
   */
  level?: string;
  name?: string;
  /**
   * Where lines go. Given a destination (tests capture lines this way), the format is JSON unless `format` says
   * otherwise: a sink is read by code, not by a person at a terminal.
   * @default stdout
   */
  destination?: pino.DestinationStream;
  /**
   * @default {@link logFormatFrom}: `LOG_FORMAT`, else pretty on a terminal outside production, else JSON
   */
  format?: LogFormat;
}

/**
 * The format the environment asks for: `LOG_FORMAT` (`json` or `pretty`) when set; otherwise pretty when stdout
 * is a terminal and `NODE_ENV` is not `production`, JSON everywhere else (pipes, files, containers, CI), so a log
 * shipper never receives colour codes.
 */
export function logFormatFrom(env: NodeJS.ProcessEnv = process.env, stdoutIsTerminal = process.stdout.isTTY === true): LogFormat {
  const raw = env.LOG_FORMAT?.trim().toLowerCase();
  if (raw === 'json' || raw === 'pretty') return raw;
  if (raw) throw new Error(`LOG_FORMAT must be json or pretty, got "${env.LOG_FORMAT}"`);
  return stdoutIsTerminal && env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

function toWritable(destination: pino.DestinationStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      destination.write(chunk.toString('utf8'));
      done();
    },
  });
}

/**
 * A pretty stream: still one line per event (extra fields inline after the message), with the correlation id in
 * front of the message so a request's lines can be picked out by eye. Written synchronously: it is for a person
 * at a terminal, where losing the last lines at exit costs more than the speed.
 */
function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  return PinoPretty({
    colorize: destination === undefined && process.stdout.isTTY === true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,correlationId',
    messageFormat: '{if correlationId}[{correlationId}] {end}{msg}',
    sync: true,
    // pino-pretty pipes into a real stream; a plain `{ write }` sink (as tests pass) is wrapped in one.
    ...(destination ? { destination: toWritable(destination) } : {}),
  });
}

/**
 * One line per event: JSON, or pretty at a developer's terminal (see {@link logFormatFrom}). The mixin stamps the
 * correlation id of the request in scope on every line, so no call site has to remember it.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? (options.destination ? 'json' : logFormatFrom());
  const stream = format === 'pretty' ? prettyStream(options.destination) : (options.destination ?? pino.destination({ dest: 1, sync: false }));
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
    stream,
  );
}
