import { describe, expect, it } from 'vitest';
import { loadConfig, SANDBOX_MARKETPLACE_SECRET } from './config.js';
import { DefaultChannelAllocationRule } from './channels/default-channel-allocation-rule.js';

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

describe('the marketplace and the channel rule', () => {
  it('defaults: the sandbox marketplace secret outside production, none in production; 15 min window; buffer 2 at warehouses', () => {
    const config = loadConfig({});
    expect(config.marketplace).toEqual({ webhookSecret: SANDBOX_MARKETPLACE_SECRET, ackWindowMs: 900_000, sweepMs: 5_000 });
    expect(config.channels).toEqual({ marketplaceBuffer: 2, marketplaceLocations: 'WAREHOUSE', onlineExcludedStores: [] });
    expect(loadConfig({ NODE_ENV: 'production' }).marketplace.webhookSecret).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production', MARKETPLACE_WEBHOOK_SECRET: 's3cret' }).marketplace.webhookSecret).toBe('s3cret');
  });

  it('reads the rule the way both subgraphs get it, and refuses what it cannot be', () => {
    const config = loadConfig({ MARKETPLACE_BUFFER: '0', MARKETPLACE_LOCATIONS: 'ALL', ONLINE_EXCLUDED_STORES: 'store-003, store-007,' });
    expect(config.channels).toEqual({ marketplaceBuffer: 0, marketplaceLocations: 'ALL', onlineExcludedStores: ['store-003', 'store-007'] });
    const rule = new DefaultChannelAllocationRule(config.channels);
    expect(rule.eligible('MARKETPLACE', { id: 'store-001', kind: 'STORE' })).toBe(true);
    expect(rule.eligible('WEB', { id: 'store-003', kind: 'STORE' })).toBe(false);
    expect(rule.holdBack('MARKETPLACE')).toBe(0);
    expect(() => loadConfig({ MARKETPLACE_LOCATIONS: 'STORES' })).toThrow(/MARKETPLACE_LOCATIONS must be WAREHOUSE or ALL/);
    expect(() => loadConfig({ MARKETPLACE_BUFFER: '-1' })).toThrow(/MARKETPLACE_BUFFER/);
    expect(() => loadConfig({ MARKETPLACE_ACK_WINDOW_MS: '0' })).toThrow(/MARKETPLACE_ACK_WINDOW_MS/);
  });
});
