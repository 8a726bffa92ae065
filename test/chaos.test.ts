import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runChaos } from '../bench/chaos/run.js';
import { assertBuilt } from './support/processes.js';

// The short variant of `npm run chaos` (bench/chaos/run.ts): the real processes (`node dist/main.js`: the sandbox,
// instance A in one process, instance B as a gateway and six subgraph processes; a redis-server with AOF), 75 s of
// mixed load and 200 subscribers while instance A is killed -9, Redis is killed -9 and B's orders subgraph is
// killed -9 (each started again), the ERP and the PSP flap and latency spikes pass; then every invariant is
// checked on what the systems of record hold. Bounded: at most CHAOS_TEST_SECONDS (75) of load and 60 s to settle.
beforeAll(assertBuilt);

const SECONDS = Number(process.env.CHAOS_TEST_SECONDS ?? 75);

describe('chaos (short)', () => {
  it(
    'under kill -9 of an instance, Redis and a subgraph, flapping ERP and PSP and latency spikes, every invariant holds',
    async () => {
      const report = await runChaos({ seconds: SECONDS, settleSeconds: 60, subscribers: 200, timeline: 'short' });
      // The table is the result: shown whether it passes or not.
      process.stdout.write(`\n${report.summary.map((s) => `  ${s}`).join('\n')}\n\n${report.table}\n${report.details ? `\n${report.details}\n` : ''}`);
      if (process.env.CHAOS_JSON) writeFileSync(process.env.CHAOS_JSON, JSON.stringify({ summary: report.summary, invariants: report.invariants, ...report.evidence }, null, 1));
      const failed = report.invariants.filter((r) => r.ok === false).map((r) => `${r.name}: ${r.measured}`);
      expect(failed).toEqual([]);
    },
    // Topology up (about a minute on two cores), the load, its restarts, the settle window, the checks, the stop.
    (SECONDS + 60 + 360) * 1000,
  );
});
