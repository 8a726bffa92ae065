import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// No decorator-metadata transform: every type-graphql decorator names its type explicitly (`@Field(() => Int)`),
// so the schema does not depend on `design:type` metadata, which vite's transform does not emit (tsc does).

// graphql ships CJS (index.js) and ESM (index.mjs) builds. Node loads the CJS one for everybody, but vite would
// hand our sources the ESM one while the Apollo packages keep the CJS one: two graphql realms, and
// `instanceof GraphQLError` fails across them. Pin the CJS build so tests run what production runs.
const graphqlCjs = createRequire(import.meta.url).resolve('graphql');
const resolve = { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] };

// The tests beside the code split in two projects by what they need, read from the file itself, so that a new test
// lands in the right one without a list to keep: `integration` is a file that starts a real redis-server
// (test/support/redis.ts, scripts/redis-server.ts) or listens on a port (`.listen(`: an HTTP or WebSocket server of
// its own, short of the whole stack); `unit` is everything else, pure code with no server and no Redis.
const ROOT = fileURLToPath(new URL('.', import.meta.url));
const CODE_ROOTS = ['common', 'sandbox', 'subgraphs', 'gateway'];
const NEEDS_A_SERVER = /test\/support\/redis\.js|scripts\/redis-server\.js|\.listen\(/;
const integrationFiles = CODE_ROOTS.flatMap((root) =>
  readdirSync(join(ROOT, root), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `${root}/${file.split('\\').join('/')}`),
).filter((file) => NEEDS_A_SERVER.test(readFileSync(join(ROOT, file), 'utf8')));

export default defineConfig({
  resolve,
  test: {
    projects: [
      {
        resolve,
        test: { name: 'unit', setupFiles: ['reflect-metadata'], include: CODE_ROOTS.map((root) => `${root}/**/*.test.ts`), exclude: [...configDefaults.exclude, ...integrationFiles], environment: 'node' },
      },
      {
        resolve,
        test: { name: 'integration', setupFiles: ['reflect-metadata'], include: integrationFiles, environment: 'node' },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          setupFiles: ['reflect-metadata'],
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One stack per file is plenty for a 2-core machine.
          fileParallelism: false,
        },
      },
      {
        resolve,
        test: {
          // The federation tests again, on Apollo's executor (GATEWAY_EXECUTOR=apollo, read by startTestStack): both
          // executors must keep every behaviour they cover. Run after the other projects, not beside them: one stack
          // at a time.
          name: 'e2e-apollo',
          setupFiles: ['reflect-metadata'],
          include: ['test/gateway.test.ts', 'test/n-plus-one.test.ts', 'test/node.test.ts', 'test/outages.test.ts', 'test/subscriptions.test.ts'],
          env: { GATEWAY_EXECUTOR: 'apollo' },
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
