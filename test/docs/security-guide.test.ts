import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES, loadConfig } from '../../src/config.ts';
import { INPUT_LIMITS } from '../../src/events/input-limits.ts';

const guide = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');

/** Rows of the guide's limits table: `| \`NAME\` | \`default\` | … |`. */
const documentedDefaults = [...guide.matchAll(/^\| `([A-Z0-9_]+)` \| `([^`]*)` \|/gm)].map(
  ([, name, value]) => ({ name: name!, value: value! }),
);

const LIMIT_VARIABLES = [
  'MAX_BODY_BYTES',
  'MAX_QUERY_DEPTH',
  'MAX_QUERY_COST',
  'STATEMENT_TIMEOUT_MS',
  'RATE_LIMIT_PER_KEY',
  'RATE_LIMIT_EVENTS_PER_KEY',
  'RATE_LIMIT_AUTH_FAILURES_PER_IP',
  'MAX_WS_CONNECTIONS',
  'MAX_WS_CONNECTIONS_PER_KEY',
  'MAX_SUBSCRIPTIONS_PER_CONNECTION',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_KEEP_ALIVE_TIMEOUT_MS',
];

describe('the Security guide', () => {
  it('has a row with its default for every limit', () => {
    expect(documentedDefaults.map((row) => row.name)).toEqual(expect.arrayContaining(LIMIT_VARIABLES));
  });

  it.each(documentedDefaults)(
    'gives $name the default the server really uses ($value)',
    ({ name, value }) => {
      expect(ENVIRONMENT_VARIABLES).toContain(name);
      // Setting a variable to its documented default must change nothing.
      expect(loadConfig({ [name]: value })).toEqual(loadConfig({}));
    },
  );

  it.each(INPUT_LIMITS)('lists the bound of $input', ({ input, maximum }) => {
    expect(guide).toContain(`| ${input} | ${maximum} |`);
  });

  it.each([
    'CORS_ORIGINS',
    'GRAPHQL_INTROSPECTION',
    'DESTINATION_ALLOW_NETWORKS',
    'DESTINATION_SECRETS_KEY',
    'STREAM_KEY_RECHECK_MS',
  ])('explains %s', (name) => {
    expect(guide).toContain(`\`${name}`);
  });
});
