import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('GATEWAY_WORKERS', () => {
  it('is one gateway process unless told otherwise', () => {
    expect(loadConfig({}).gatewayWorkers).toBe(1);
    expect(loadConfig({ GATEWAY_WORKERS: '' }).gatewayWorkers).toBe(1);
    expect(loadConfig({ GATEWAY_WORKERS: '4' }).gatewayWorkers).toBe(4);
    expect(loadConfig({ GATEWAY_WORKERS: '64' }).gatewayWorkers).toBe(64);
  });

  it.each(['0', '65', '1.5', '-2', 'two', 'auto'])('refuses to start with GATEWAY_WORKERS=%s', (raw) => {
    expect(() => loadConfig({ GATEWAY_WORKERS: raw })).toThrow(/GATEWAY_WORKERS must be/);
  });
});
