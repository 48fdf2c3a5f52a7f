import { batchIngest } from './batch-ingest.ts';
import { deepPage } from './deep-page.ts';
import { filteredPage } from './filtered-page.ts';
import { singleEventIngest } from './ingest.ts';
import { memory } from './memory.ts';
import { purge } from './purge.ts';
import { rateLimits } from './rate-limits.ts';
import type { Scenario } from './scenario.ts';
import { sealing } from './sealing.ts';
import { streamLatency } from './stream-latency.ts';

/**
 * Every scenario, in run order; those that need the seeded data set run after it is loaded, whatever
 * their place here. A feature adds its scenario module to this list.
 */
export const SCENARIOS: Scenario[] = [
  singleEventIngest,
  batchIngest,
  streamLatency,
  purge,
  memory,
  rateLimits,
  // First of the scenarios on the seeded data: it times sealing that backlog before any server does.
  sealing,
  filteredPage,
  deepPage,
];
