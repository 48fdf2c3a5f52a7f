import { badInput } from '../errors.ts';
import type { EventFilter } from './filter.ts';
import { hasLoneSurrogate, jsonProblem, LONE_SURROGATE_PROBLEM, unstorableText } from './input-checks.ts';
import {
  MAX_FILTER_METADATA_BYTES,
  MAX_FILTER_METADATA_DEPTH,
  MAX_FILTER_SEARCH_LENGTH,
  MAX_FILTER_VALUE_LENGTH,
  MAX_FILTER_VALUES,
  MAX_ID_LENGTH,
  MAX_IP_ADDRESS_LENGTH,
  MAX_SEARCH_QUERY_LENGTH,
} from './input-limits.ts';

const LIST_FIELDS = ['actions', 'actorIds', 'actorTypes', 'targetIds', 'targetTypes'] as const;

function checkText(value: string, path: string[], max: number): void {
  const name = path.join('.');
  if (value.length > max)
    throw badInput(`${name} is ${value.length} characters long; the limit is ${max}`, path);
  const unstorable = unstorableText(value);
  if (unstorable) throw badInput(`${name} ${unstorable}`, path);
}

/**
 * Refuses a filter over any bound of input-limits.ts, or holding text PostgreSQL cannot compare,
 * with the path of the value at fault. Runs before the filter is compiled, so before any SQL.
 */
export function checkEventFilter(filter: EventFilter | null | undefined): void {
  if (!filter) return;
  if (filter.organizationId) checkText(filter.organizationId, ['filter', 'organizationId'], MAX_ID_LENGTH);
  for (const field of LIST_FIELDS) {
    const values = filter[field];
    if (!values) continue;
    if (values.length > MAX_FILTER_VALUES) {
      throw badInput(`filter.${field} takes at most ${MAX_FILTER_VALUES} values; got ${values.length}`, [
        'filter',
        field,
      ]);
    }
    values.forEach((value, index) => {
      checkText(value, ['filter', field, String(index)], MAX_FILTER_VALUE_LENGTH);
    });
  }
  if (filter.ipAddress) checkText(filter.ipAddress, ['filter', 'ipAddress'], MAX_IP_ADDRESS_LENGTH);
  if (filter.search) checkText(filter.search, ['filter', 'search'], MAX_FILTER_SEARCH_LENGTH);
  if (filter.metadata !== null && filter.metadata !== undefined) checkMetadataFilter(filter.metadata);
}

function checkMetadataFilter(metadata: unknown): void {
  const path = ['filter', 'metadata'];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw badInput('filter.metadata must be a JSON object to match by containment', path);
  }
  const problem = jsonProblem(metadata, MAX_FILTER_METADATA_DEPTH);
  if (problem) {
    const where = problem.at.length > 0 ? ` (at ${[...path, ...problem.at].join('.')})` : '';
    throw badInput(`filter.metadata: ${problem.reason}${where}`, [...path, ...problem.at]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > MAX_FILTER_METADATA_BYTES) {
    throw badInput(
      `filter.metadata is ${bytes} bytes of JSON; the limit is ${MAX_FILTER_METADATA_BYTES}`,
      path,
    );
  }
}

/**
 * The search syntax parser bounds the length (it says so first) and refuses NUL in any term; text that
 * is not valid Unicode anywhere in the query is refused here, before parsing.
 */
export function checkSearchQuery(query: string | null | undefined): void {
  if (!query || query.length > MAX_SEARCH_QUERY_LENGTH) return;
  if (hasLoneSurrogate(query)) throw badInput(`query ${LONE_SURROGATE_PROBLEM}`, ['query']);
}
