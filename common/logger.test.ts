import { describe, expect, it } from 'vitest';
import { runInScope } from './correlation.js';
import { createLogger, logFormatFrom } from './logger.js';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) } };
}

describe('log format', () => {
  it('is pretty on a terminal outside production, JSON otherwise, and LOG_FORMAT decides when set', () => {
    expect(logFormatFrom({}, true)).toBe('pretty');
    expect(logFormatFrom({}, false)).toBe('json');
    expect(logFormatFrom({ NODE_ENV: 'production' }, true)).toBe('json');
    expect(logFormatFrom({ NODE_ENV: 'development' }, true)).toBe('pretty');
    expect(logFormatFrom({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormatFrom({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormatFrom({ LOG_FORMAT: 'Pretty', NODE_ENV: 'production' }, false)).toBe('pretty');
  });

  it('refuses a LOG_FORMAT it does not know, naming the choices', () => {
    expect(() => logFormatFrom({ LOG_FORMAT: 'xml' }, true)).toThrow(/LOG_FORMAT must be json or pretty, got "xml"/);
  });

  it('writes JSON to a given destination, whatever the terminal, with the correlation id of the scope', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination });
    runInScope({ correlationId: 'corr-json-1' }, () => logger.info({ sku: 'SKU-0001-1' }, 'stock read'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'stock read', sku: 'SKU-0001-1', correlationId: 'corr-json-1' });
  });

  it('pretty: one line per event, the correlation id before the message, extra fields on the same line', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination, format: 'pretty', name: 'gateway' });
    runInScope({ correlationId: 'corr-pretty-1' }, () => logger.info({ status: 200, operation: 'ProductPage' }, 'request'));
    logger.warn('outside any request');
    expect(lines).toHaveLength(2);
    const [inScope, outside] = lines as [string, string];
    expect(inScope).toMatch(/INFO \(gateway\): \[corr-pretty-1\] request/);
    expect(inScope).toContain('"operation":"ProductPage"');
    expect(inScope).not.toMatch(/^\{/);
    expect(outside).toMatch(/WARN \(gateway\): outside any request$/);
  });
});
