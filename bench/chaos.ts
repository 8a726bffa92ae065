import { writeFileSync } from 'node:fs';
import { killAllStarted } from './chaos/processes.js';
import { runChaos } from './chaos/run.js';

/*
 * `npm run chaos`: steady mixed load on two instances sharing Redis and the sandbox, while the suite kills and
 * restarts an instance, Redis (AOF on) and subgraphs, makes the ERP and the PSP flap and adds latency spikes; then
 * it checks the invariants and prints them as a table. CHAOS_SECONDS (default 180) is the length of the load,
 * CHAOS_SETTLE_SECONDS (default 120) the longest wait for the system to settle after it, CHAOS_SUBSCRIBERS (200)
 * and CHAOS_SEED (12) shape it; CHAOS_JSON=<file> also writes what the clients did and saw there;
 * CHAOS_TIMELINE=short runs npm test's shorter fault timeline. Exit code 1 when an invariant fails. Loopback only; everything it starts is stopped
 * at the end, also on a failure.
 */
const settings = {
  CHAOS_SECONDS: Number(process.env.CHAOS_SECONDS ?? 180),
  CHAOS_SETTLE_SECONDS: Number(process.env.CHAOS_SETTLE_SECONDS ?? 120),
  CHAOS_SUBSCRIBERS: Number(process.env.CHAOS_SUBSCRIBERS ?? 200),
  CHAOS_SEED: Number(process.env.CHAOS_SEED ?? 12),
};
for (const [name, value] of Object.entries(settings)) {
  if (!Number.isSafeInteger(value) || value < (name === 'CHAOS_SEED' || name === 'CHAOS_SUBSCRIBERS' ? 0 : 10)) {
    process.stderr.write(`${name} must be an integer${name === 'CHAOS_SEED' || name === 'CHAOS_SUBSCRIBERS' ? ' >= 0' : ' >= 10'}\n`);
    process.exit(2);
  }
}

let exitCode = 1;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`chaos: ${signal}; killing what it started\n`);
    killAllStarted();
    process.exit(130);
  });
}
try {
  const report = await runChaos({
    seconds: settings.CHAOS_SECONDS,
    settleSeconds: settings.CHAOS_SETTLE_SECONDS,
    subscribers: settings.CHAOS_SUBSCRIBERS,
    seed: settings.CHAOS_SEED,
    timeline: process.env.CHAOS_TIMELINE === 'short' ? 'short' : 'full',
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\n${report.summary.map((s) => `  ${s}`).join('\n')}\n\n${report.table}\n`);
  if (report.details) process.stdout.write(`\n${report.details}\n`);
  if (process.env.CHAOS_JSON) writeFileSync(process.env.CHAOS_JSON, JSON.stringify({ summary: report.summary, invariants: report.invariants, ...report.evidence }, null, 1));
  process.stdout.write(`\nchaos: ${report.ok ? 'every invariant held' : 'INVARIANTS FAILED'}\n`);
  exitCode = report.ok ? 0 : 1;
} catch (error) {
  process.stderr.write(`chaos: the run failed: ${(error as Error).stack ?? String(error)}\n`);
}
process.exit(exitCode);
