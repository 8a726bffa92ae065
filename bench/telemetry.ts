import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contractOperations } from '../scripts/contract.js';
import { mergeRounds, runLoad, type LoadResult } from './load.js';
import { startStackProcess, type StackProcess } from './stack-process.js';

/*
 * The cost of metrics and tracing on the ProductPage: two embedded stacks side by side, one with both off
 * (METRICS_ENABLED=false, no OTLP endpoint), one with both on (metrics counted, spans sampled at
 * BENCH_TRACE_RATIO, 0.1, and exported by OTLP/HTTP to a collector stand-in in this process that reads and drops
 * them). They are measured in alternating rounds (ABBA), one at a time, so the machine's drift hits both alike.
 */

/** A stand-in OTLP/HTTP collector: reads every export, counts its bytes, answers 200. */
async function startCollector(): Promise<{ url: string; exports: () => number; bytes: () => number; stop: () => Promise<void> }> {
  let exports = 0;
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, exports: () => exports, bytes: () => bytes, stop: () => new Promise((done) => server.close(() => done())) };
}

export interface TelemetryCost {
  off: LoadResult;
  on: LoadResult;
  /** on ÷ off req/s per round, sorted. */
  roundRatios: number[];
  ratio: number;
  traceRatio: number;
  exports: number;
  exportedBytes: number;
}

export async function measureTelemetry(options: { concurrency: number; maxRequests: number; maxMs: number; rounds: number }): Promise<TelemetryCost> {
  const traceRatio = Number(process.env.BENCH_TRACE_RATIO ?? 0.1);
  const page = contractOperations().find((o) => o.name === 'ProductPage')!.document;
  const body = (i: number) => JSON.stringify({ query: page, variables: { id: `prod-${String((i % 500) + 1).padStart(4, '0')}`, locationIds: ['store-001', 'store-002'] } });
  const collector = await startCollector();
  const stacks: StackProcess[] = [];
  try {
    const off = await startStackProcess({ METRICS_ENABLED: 'false' });
    stacks.push(off);
    const on = await startStackProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_SAMPLER_ARG: String(traceRatio) });
    stacks.push(on);
    const results = { off: [] as LoadResult[], on: [] as LoadResult[] };
    const run = (which: 'off' | 'on', maxRequests: number, maxMs: number) =>
      runLoad({ url: `${(which === 'off' ? off : on).gateway}/graphql`, concurrency: options.concurrency, maxRequests, maxMs, body, authorization: () => undefined });
    // Warm both (plans, JIT), then measure.
    await run('off', 500, 5000);
    await run('on', 500, 5000);
    for (let r = 0; r < options.rounds; r++) {
      for (const which of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        results[which].push(await run(which, Math.ceil(options.maxRequests / options.rounds), options.maxMs / options.rounds));
      }
    }
    const a = mergeRounds(results.off);
    const b = mergeRounds(results.on);
    const roundRatios = results.on.map((r, i) => r.rps / (results.off[i]?.rps ?? r.rps)).sort((x, y) => x - y);
    // The SDK exports in batches every few seconds: let the last one land before reading the collector.
    await new Promise((done) => setTimeout(done, 6000));
    return { off: a, on: b, roundRatios, ratio: b.rps / a.rps, traceRatio, exports: collector.exports(), exportedBytes: collector.bytes() };
  } finally {
    for (const stack of stacks) await stack.stop();
    await collector.stop();
  }
}

/** The table of {@link measureTelemetry}. */
export function telemetryTable(cost: TelemetryCost, concurrency: number): string[] {
  const row = (name: string, r: LoadResult) => `| ${name} | ${r.requests} | ${r.errors} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`;
  const median = cost.roundRatios[Math.floor(cost.roundRatios.length / 2)] ?? 0;
  return [
    `| ProductPage (2 picked stores), ${concurrency} concurrent clients | requests | errors | req/s | p50 ms | p99 ms |`,
    '|---|---:|---:|---:|---:|---:|',
    row('metrics and tracing off (METRICS_ENABLED=false, no OTLP endpoint)', cost.off),
    row(`metrics on, traces sampled at ${cost.traceRatio} and exported by OTLP/HTTP`, cost.on),
    '',
    `on ÷ off req/s (goal ≥ 0.95): ${cost.ratio.toFixed(3)} over all rounds; median round ${median.toFixed(3)} [${(cost.roundRatios[0] ?? 0).toFixed(3)}–${(cost.roundRatios[cost.roundRatios.length - 1] ?? 0).toFixed(3)}]; ${cost.exports} OTLP exports, ${(cost.exportedBytes / 1024).toFixed(0)} KiB`,
  ];
}

// `npm run bench:telemetry`: this measurement alone.
if (process.argv[1]?.endsWith('telemetry.js')) {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
  const cost = await measureTelemetry({ concurrency, maxRequests: Number(process.env.BENCH_REQUESTS ?? 6000) * 2, maxMs: Number(process.env.BENCH_SECONDS ?? 12) * 2000, rounds: Number(process.env.BENCH_ROUNDS ?? 4) });
  process.stdout.write(`${telemetryTable(cost, concurrency).join('\n')}\n`);
}
