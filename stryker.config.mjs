// @ts-check
/**
 * Mutation testing of the security-critical modules: `npm run mutation`, or one module with
 * `npm run mutation -- --mutate src/integrity/merkle.ts`. Not part of .ci/run (see test/bench/RESULTS.md).
 *
 * No TypeScript checker: it needs the JavaScript compiler API that TypeScript 7 no longer has. Stryker's
 * instrumenter disables type checks in the mutated TypeScript files, and vitest runs them as they are.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  mutate: [
    'src/integrity/merkle.ts',
    'src/integrity/signed-note.ts',
    'src/integrity/offline-verify.ts',
    'src/integrity/verify-export.ts',
    'src/export/formats/*.ts',
    'src/events/search-syntax.ts',
    'src/events/emit-input.ts',
  ],
  // Stryker's default, spelled out: `// @ts-nocheck` on every instrumented file.
  // Stryker rewrites the tsconfig it is pointed at with TypeScript's JavaScript API, which TypeScript 7 lacks;
  // a name that matches no file skips that step (tsconfig.json has no paths that leave the project anyway).
  tsconfigFile: 'tsconfig.no-stryker-rewrite.json',
  disableTypeChecks: '{src,test}/**/*.{ts,mts,cts}',
  coverageAnalysis: 'perTest',
  // Two cores shared with the rest of the machine.
  concurrency: 1,
  timeoutMS: 10_000,
  ignorePatterns: ['/coverage', '/.auditline', '/test/bench', '*.cpuprofile'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/report.json' },
  thresholds: { high: 95, low: 90, break: null },
  cleanTempDir: 'always',
};
