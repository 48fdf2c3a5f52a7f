import { and, eq, gt, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { events } from '../db/tables.ts';
import { badInput } from '../errors.ts';
import { fromPublicId } from '../ids.ts';
import { ACTION_PATTERN } from './emit-input.ts';
import { checkEventFilter, checkSearchQuery } from './filter-input.ts';
import { parseIpOrCidr } from './ip.ts';
import { parseSearchQuery, SearchSyntaxError, type SearchTerm } from './search-syntax.ts';

/** The GraphQL `EventFilter`, shared by `events`, `eventStream` and exports. */
export interface EventFilter {
  organizationId?: string | null;
  actions?: string[] | null;
  actorIds?: string[] | null;
  actorTypes?: string[] | null;
  targetIds?: string[] | null;
  targetTypes?: string[] | null;
  occurredAfter?: Date | null;
  occurredBefore?: Date | null;
  ipAddress?: string | null;
  search?: string | null;
  metadata?: unknown;
}

/** Upper bound of a prefix range under the C collation the action column uses. */
const afterPrefix = (prefix: string) =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

const textArray = (values: string[]) =>
  sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::text[]`;

function actionCondition(pattern: string, path: string[]): SQL {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    if (prefix === '' || !/^[a-z0-9_.]+$/.test(prefix)) {
      throw badInput(`"${pattern}" is not an action or an action prefix like "user.*"`, path);
    }
    return and(gte(events.action, prefix), lt(events.action, afterPrefix(prefix)))!;
  }
  if (!ACTION_PATTERN.test(pattern)) throw badInput(`"${pattern}" is not an action like "user.login"`, path);
  return eq(events.action, pattern);
}

function ipCondition(value: string, path: string[]): SQL {
  const network = parseIpOrCidr(value);
  if (!network) throw badInput(`"${value}" is not an IP address or CIDR range`, path);
  return sql`${events.ipAddress} <<= ${`${network.address}/${network.prefix}`}::inet`;
}

function textCondition(text: string): SQL {
  return sql`${events.searchText} like ${`%${escapeLike(text.toLowerCase())}%`}`;
}

/** Bounds are checked up front by `checkEventFilter`. */
function listOf(values: string[] | null | undefined): string[] | null {
  return values && values.length > 0 ? values : null;
}

function filterConditions(filter: EventFilter): SQL[] {
  const conditions: SQL[] = [];
  const actions = listOf(filter.actions);
  if (actions)
    conditions.push(or(...actions.map((a, i) => actionCondition(a, ['filter', 'actions', String(i)])))!);
  const actorIds = listOf(filter.actorIds);
  if (actorIds) conditions.push(inArray(events.actorId, actorIds));
  const actorTypes = listOf(filter.actorTypes);
  if (actorTypes) conditions.push(inArray(events.actorType, actorTypes));
  const targetIds = listOf(filter.targetIds);
  if (targetIds) conditions.push(sql`${events.targetIds} && ${textArray(targetIds)}`);
  const targetTypes = listOf(filter.targetTypes);
  if (targetTypes) conditions.push(sql`${events.targetTypes} && ${textArray(targetTypes)}`);
  if (filter.occurredAfter) conditions.push(gte(events.occurredAt, filter.occurredAfter));
  if (filter.occurredBefore) conditions.push(lt(events.occurredAt, filter.occurredBefore));
  if (filter.ipAddress) conditions.push(ipCondition(filter.ipAddress, ['filter', 'ipAddress']));
  if (filter.search?.trim()) conditions.push(textCondition(filter.search.trim()));
  if (filter.metadata !== null && filter.metadata !== undefined) {
    conditions.push(sql`${events.metadata} @> ${JSON.stringify(filter.metadata)}::text::jsonb`);
  }
  return conditions;
}

function termCondition(term: SearchTerm): SQL {
  switch (term.field) {
    case 'action':
      return term.prefix ? actionCondition(`${term.value}*`, ['query']) : eq(events.action, term.value);
    case 'actor':
      return eq(events.actorId, term.value);
    case 'actor_type':
      return eq(events.actorType, term.value);
    case 'target':
      return sql`${events.targetIds} && ${textArray([term.value])}`;
    case 'target_type':
      return sql`${events.targetTypes} && ${textArray([term.value])}`;
    case 'ip':
      return ipCondition(term.value, ['query']);
    case 'text':
      return textCondition(term.value);
    case 'created':
      return and(
        term.gte ? gte(events.occurredAt, term.gte) : undefined,
        term.gt ? gt(events.occurredAt, term.gt) : undefined,
        term.lte ? lte(events.occurredAt, term.lte) : undefined,
        term.lt ? lt(events.occurredAt, term.lt) : undefined,
      )!;
  }
}

function searchTerms(query: string | null | undefined): SearchTerm[] {
  checkSearchQuery(query);
  if (!query?.trim()) return [];
  try {
    return parseSearchQuery(query);
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw badInput(error.message, ['query']);
    throw error;
  }
}

/** Search-syntax fields whose conditions are equalities or ranges on btree-indexed columns. */
const PLAN_STABLE_TERMS: ReadonlySet<SearchTerm['field']> = new Set([
  'action',
  'actor',
  'actor_type',
  'created',
]);

/** The organization a filter asks for, as a stored uuid (null when it names none). */
export function requestedOrganization(filter: EventFilter | null | undefined): string | null {
  const requested = filter?.organizationId;
  if (!requested) return null;
  checkEventFilter({ organizationId: requested });
  const uuid = fromPublicId('org', requested);
  if (!uuid) throw badInput(`"${requested}" is not an organization id`, ['filter', 'organizationId']);
  return requested;
}

/**
 * One compiler for `filter` + `query`, used by the connection, the live stream and exports, so the
 * three always agree on what matches. `organizationUuid` is the tenant wall: null only for a platform
 * key reading across organizations.
 */
export function compileEventWhere(
  organizationUuid: string | null,
  filter: EventFilter | null | undefined,
  query: string | null | undefined,
): SQL | undefined {
  return compileEventQuery(organizationUuid, filter, query).where;
}

/**
 * `compileEventWhere`, and whether one query plan suits every value of the result's parameters: only
 * equalities and ranges on the organization, action, actor and time, whose selectivities are alike
 * from value to value. Text search, metadata containment, target overlaps and IP ranges are not: a
 * plan reused from a common value would be the wrong one for a rare value, so those keep a plan made
 * for each execution.
 */
export function compileEventQuery(
  organizationUuid: string | null,
  filter: EventFilter | null | undefined,
  query: string | null | undefined,
): { where: SQL | undefined; planFitsEveryValue: boolean } {
  checkEventFilter(filter);
  const f = filter ?? {};
  const terms = searchTerms(query);
  const conditions = [
    organizationUuid ? eq(events.organizationId, organizationUuid) : undefined,
    ...filterConditions(f),
    // `IS NOT TRUE` so that a negated term also keeps rows where the column is NULL (no IP, say).
    ...terms.map((term) => (term.negated ? sql`(${termCondition(term)}) is not true` : termCondition(term))),
  ].filter((condition): condition is SQL => condition !== undefined);
  const valueDependentFilter =
    Boolean(f.targetIds?.length || f.targetTypes?.length || f.ipAddress || f.search?.trim()) ||
    (f.metadata !== null && f.metadata !== undefined);
  return {
    where: conditions.length > 0 ? and(...conditions) : undefined,
    planFitsEveryValue: !valueDependentFilter && terms.every((term) => PLAN_STABLE_TERMS.has(term.field)),
  };
}
