import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // graphql@16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for Pothos and Yoga,
  // while Vite would pick the ESM one for our sources: two copies, and "another realm" errors. Pin one.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
