import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The fast unit tests of the security-critical modules, for `npm run mutation` only. Stryker runs them
 * once per mutant, so nothing here may need a database or a server.
 */
export const MUTATION_TESTS = [
  'test/integrity/merkle*.test.ts',
  'test/integrity/signed-note*.test.ts',
  'test/integrity/offline-verify*.test.ts',
  'test/integrity/verify-export*.test.ts',
  'test/events/search-syntax*.test.ts',
  'test/events/emit-input*.test.ts',
  'test/export/{cef,csv,ecs,jsonl,leef,ocsf,formats}*.test.ts',
];

// Not mergeConfig: it would append to the base config's `include` instead of replacing it.
export default defineConfig({ ...base, test: { ...base.test, include: MUTATION_TESTS } });
