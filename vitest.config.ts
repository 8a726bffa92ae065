import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// No decorator-metadata transform: every type-graphql decorator names its type explicitly (`@Field(() => Int)`),
// so the schema does not depend on `design:type` metadata, which vite's transform does not emit (tsc does).

// graphql ships CJS (index.js) and ESM (index.mjs) builds. Node loads the CJS one for everybody, but vite would
// hand our sources the ESM one while the Apollo packages keep the CJS one: two graphql realms, and
// `instanceof GraphQLError` fails across them. Pin the CJS build so tests run what production runs.
const graphqlCjs = createRequire(import.meta.url).resolve('graphql');
const resolve = { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] };

export default defineConfig({
  resolve,
  test: {
    projects: [
      {
        resolve,
        test: { name: 'unit', setupFiles: ['reflect-metadata'], include: ['common/**/*.test.ts', 'sandbox/**/*.test.ts', 'subgraphs/**/*.test.ts', 'gateway/**/*.test.ts'], environment: 'node' },
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
