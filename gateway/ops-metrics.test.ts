import { describe, expect, it } from 'vitest';
import { Metrics } from '../common/telemetry/metrics.js';
import { mergeExpositions, parseExposition } from './ops-metrics.js';
import { metricsUrlOf } from './ops-console.js';

describe('the operations console’s metrics', () => {
  it('parses the text format: types, escaped label values, +Inf buckets, timestamps; odd lines skipped', () => {
    const text = [
      '# HELP retail_x_total Things',
      '# TYPE retail_x_total counter',
      'retail_x_total{a="q\\"uo\\\\te",b="new\\nline"} 3',
      'retail_x_total{a="plain"} 4 1700000000000',
      '# TYPE retail_h_seconds histogram',
      'retail_h_seconds_bucket{le="0.1"} 1',
      'retail_h_seconds_bucket{le="+Inf"} 2',
      'retail_h_seconds_sum 0.3',
      'retail_h_seconds_count 2',
      'not a sample line {',
      'retail_g NaN',
    ].join('\n');
    const families = parseExposition(text);
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['retail_x_total', 'counter', 2],
      ['retail_h_seconds', 'histogram', 4],
    ]);
    expect(families[0]!.samples[0]).toEqual({ name: 'retail_x_total', labels: { a: 'q"uo\\te', b: 'new\nline' }, value: 3 });
    expect(families[0]!.samples[1]!.value).toBe(4);
    expect(families[1]!.samples[1]).toEqual({ name: 'retail_h_seconds_bucket', labels: { le: '+Inf' }, value: 2 });
  });

  it('merges processes: counters and histograms summed (labels the console does not show summed away), gauges at their largest', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.systemCalls.inc({ system: 'erp', method: 'getVariants', outcome: 'ok' }, 2);
    a.systemCalls.inc({ system: 'erp', method: 'postJournal', outcome: 'ok' }, 3);
    b.systemCalls.inc({ system: 'erp', method: 'getVariants', outcome: 'error' });
    b.systemCalls.inc({ system: 'erp', method: 'getVariants', outcome: 'ok' });
    a.systemDuration.observe({ system: 'erp', method: 'getVariants' }, 0.02);
    b.systemDuration.observe({ system: 'erp', method: 'postJournal' }, 2);
    a.outboxPending.set({ outbox: 'erp' }, 4);
    b.outboxPending.set({ outbox: 'erp' }, 7);
    // Not a family the console shows.
    a.subscriptionDeliveries.inc();
    const samples = mergeExpositions([(await a.exposition()).body, (await b.exposition()).body]);
    const find = (name: string, labels: Record<string, string>) => samples.filter((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels)).map((s) => s.value);
    expect(find('retail_system_calls_total', { system: 'erp', outcome: 'ok' })).toEqual([6]);
    expect(find('retail_system_calls_total', { system: 'erp', outcome: 'error' })).toEqual([1]);
    expect(find('retail_system_call_duration_seconds_count', { system: 'erp' })).toEqual([2]);
    expect(find('retail_system_call_duration_seconds_bucket', { le: '0.025', system: 'erp' })).toEqual([1]);
    expect(find('retail_system_call_duration_seconds_bucket', { le: '+Inf', system: 'erp' })).toEqual([2]);
    expect(find('retail_outbox_pending', { outbox: 'erp' })).toEqual([7]);
    expect(samples.some((s) => s.name.startsWith('retail_subscription'))).toBe(false);
  });

  it('reads each subgraph’s /metrics beside its /graphql', () => {
    expect(metricsUrlOf('http://127.0.0.1:4001/graphql')).toBe('http://127.0.0.1:4001/metrics');
    expect(metricsUrlOf('http://catalog:4001/api/graphql/')).toBe('http://catalog:4001/api/metrics');
    expect(metricsUrlOf('http://catalog:4001/')).toBe('http://catalog:4001/metrics');
  });
});
