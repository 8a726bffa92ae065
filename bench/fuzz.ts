import { formatFuzzReport, runFuzzCampaign } from '../test/support/fuzz/runner.js';
import { bearerFrom, startStackProcess } from './stack-process.js';

/**
 * `npm run fuzz`: a longer fuzz campaign than `npm test`'s, against the embedded stack run as `npm start` runs it
 * (`node dist/main.js` in a child process, so that a crash is a process that exits, not an exception in this one).
 * FUZZ_CASES (50 000), FUZZ_SEED (12) and FUZZ_CONCURRENCY (16) shape it. Prints the cases by category and outcome
 * and every violation; exits 1 if there was one, or if the stack died.
 */
const cases = Number(process.env.FUZZ_CASES ?? 50_000);
const seed = Number(process.env.FUZZ_SEED ?? 12);
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 16);
for (const [name, value] of Object.entries({ FUZZ_CASES: cases, FUZZ_SEED: seed, FUZZ_CONCURRENCY: concurrency })) {
  if (!Number.isSafeInteger(value) || value < (name === 'FUZZ_SEED' ? 0 : 1)) {
    process.stderr.write(`${name} must be a positive integer\n`);
    process.exit(2);
  }
}

const stack = await startStackProcess({});
const alive = (): boolean => {
  try {
    process.kill(stack.pid, 0);
    return true;
  } catch {
    return false;
  }
};
const tokens = new Map<string, Promise<string>>();
let exitCode = 0;
try {
  process.stdout.write(`fuzz: ${cases} cases, seed ${seed}, concurrency ${concurrency}, against node dist/main.js (pid ${stack.pid})\n`);
  const report = await runFuzzCampaign(
    {
      graphql: `${stack.gateway}/graphql`,
      sandbox: stack.sandbox,
      bearer: (caller) => {
        const key = JSON.stringify(caller);
        let token = tokens.get(key);
        if (!token) tokens.set(key, (token = bearerFrom(stack.sandbox, { ...caller })));
        return token;
      },
    },
    { cases, seed, concurrency },
  );
  process.stdout.write(`${formatFuzzReport(report)}\n`);
  const survived = alive();
  process.stdout.write(`stack process: ${survived ? 'still running' : 'DIED during the campaign'}\n`);
  if (report.violations.length > 0 || !survived) exitCode = 1;
} finally {
  await stack.stop();
}
process.exit(exitCode);
