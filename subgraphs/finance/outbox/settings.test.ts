import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.js';
import { DEFAULT_OUTBOX_SETTINGS, MAX_POSTING_BATCH_SIZE, outboxSettings, type FinanceConfig } from './settings.js';

describe('outbox settings', () => {
  it('default to 20 ERP calls per second and 20 postings per batch call', () => {
    expect(outboxSettings()).toEqual(DEFAULT_OUTBOX_SETTINGS);
    expect(DEFAULT_OUTBOX_SETTINGS).toMatchObject({ maxCallsPerSecond: 20, batchSize: 20 });
  });

  it('read ERP_MAX_CALLS_PER_SECOND and ERP_POSTING_BATCH_SIZE through the config’s erpOutbox section', () => {
    const config = loadConfig({ ERP_MAX_CALLS_PER_SECOND: '7', ERP_POSTING_BATCH_SIZE: '50', ERP_OUTBOX_POLL_MS: '250' }) as FinanceConfig;
    expect(outboxSettings(config.erpOutbox)).toEqual({ ...DEFAULT_OUTBOX_SETTINGS, maxCallsPerSecond: 7, batchSize: 50, pollMs: 250 });
    expect(outboxSettings((loadConfig({}) as FinanceConfig).erpOutbox)).toEqual(DEFAULT_OUTBOX_SETTINGS);
  });

  it('refuse a rate or batch size that is not a whole number of at least 1, and a batch above the bound', () => {
    expect(() => outboxSettings({ maxCallsPerSecond: 0 })).toThrow(/maxCallsPerSecond/);
    expect(() => outboxSettings({ maxCallsPerSecond: 2.5 })).toThrow(/maxCallsPerSecond/);
    expect(() => outboxSettings({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => outboxSettings({ batchSize: MAX_POSTING_BATCH_SIZE + 1 })).toThrow(/at most 500/);
    expect(outboxSettings({ batchSize: MAX_POSTING_BATCH_SIZE, maxCallsPerSecond: 1 })).toMatchObject({ batchSize: 500, maxCallsPerSecond: 1 });
  });
});
