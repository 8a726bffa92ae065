import { createRequire } from 'node:module';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// esbuild does not emit decorator metadata, which type-graphql reads; swc does.
const plugins = [swc.vite({ module: { type: 'es6' }, jsc: { target: 'es2022', parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false } } })];

// graphql ships CJS (index.js) and ESM (index.mjs) builds. Node loads the CJS one for everybody, but vite would
// hand our sources the ESM one while the Apollo packages keep the CJS one: two graphql realms, and
// `instanceof GraphQLError` fails across them. Pin the CJS build so tests run what production runs.
const graphqlCjs = createRequire(import.meta.url).resolve('graphql');
const resolve = { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] };

export default defineConfig({
  plugins,
  resolve,
  test: {
    projects: [
      {
        plugins,
        resolve,
        test: { name: 'unit', setupFiles: ['reflect-metadata'], include: ['common/**/*.test.ts', 'sandbox/**/*.test.ts', 'subgraphs/**/*.test.ts', 'gateway/**/*.test.ts'], environment: 'node' },
      },
      {
        plugins,
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
    ],
  },
});
