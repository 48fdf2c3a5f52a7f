import { badInput } from '../errors.ts';
import {
  ACTION_CATEGORIES,
  ACTION_OUTCOMES,
  ACTION_TYPES,
  type ActionCategory,
  type ActionOutcome,
  type ActionRule,
  type ActionRuleOverride,
  type ActionType,
  DEFAULT_ACTION_RULES,
  FALLBACK_CLASSIFICATION,
  OCSF_CLASS,
  type OcsfClassUid,
} from './action-mapping.ts';
import { OCSF_CLASSES } from './formats/ocsf.ts';

/** How many override rules one organization may keep. */
export const MAX_ACTION_MAPPING_RULES = 100;
export const MAX_ACTION_PATTERN_LENGTH = 200;

/** The defaults as one list to show admins, ending with what actions no rule matches get. */
export const DEFAULT_MAPPINGS: readonly ActionRule[] = [
  ...DEFAULT_ACTION_RULES,
  { pattern: '*', ...FALLBACK_CLASSIFICATION },
];

const RULE_FIELDS = new Set(['pattern', 'category', 'type', 'outcome', 'severity', 'ocsf']);
const OCSF_FIELDS = new Set(['classUid', 'activityId']);
const PATTERN_CHARACTERS = /^[a-z0-9_.*{},]+$/;

/**
 * Checks an organization's override rules as an admin sent them (GraphQL input or a CLI JSON file)
 * and returns them in the shape `classifyAction` takes. Every error names the offending field, like
 * `rules.2.severity`. Enum values are taken in either case, as the CLI file may use either.
 */
export function checkActionRules(input: unknown, path: string[] = ['rules']): ActionRuleOverride[] {
  if (!Array.isArray(input)) throw badInput(`${path.join('.')} must be a list of rules`, path);
  if (input.length > MAX_ACTION_MAPPING_RULES) {
    throw badInput(
      `${path.join('.')} has ${input.length} rules; an organization may keep at most ${MAX_ACTION_MAPPING_RULES}`,
      path,
    );
  }
  const seen = new Map<string, number>();
  return input.map((value, index) => {
    const rulePath = [...path, String(index)];
    const rule = checkRule(value, rulePath);
    const earlier = seen.get(rule.pattern);
    if (earlier !== undefined) {
      throw badInput(
        `${rulePath.join('.')}.pattern "${rule.pattern}" repeats ${path.join('.')}.${earlier}.pattern; only the first could ever apply`,
        [...rulePath, 'pattern'],
      );
    }
    seen.set(rule.pattern, index);
    return rule;
  });
}

function checkRule(value: unknown, path: string[]): ActionRuleOverride {
  const object = asObject(value, path, 'a rule object');
  rejectUnknownFields(object, RULE_FIELDS, path);
  const rule: ActionRuleOverride = { pattern: checkPattern(object.pattern, [...path, 'pattern']) };
  if (object.category != null) {
    rule.category = checkEnum(object.category, ACTION_CATEGORIES, [...path, 'category']) as ActionCategory;
  }
  if (object.type != null) rule.type = checkTypes(object.type, [...path, 'type']);
  if (object.outcome != null) {
    rule.outcome = checkEnum(object.outcome, ACTION_OUTCOMES, [...path, 'outcome']) as ActionOutcome;
  }
  if (object.severity != null) rule.severity = checkSeverity(object.severity, [...path, 'severity']);
  if (object.ocsf != null) rule.ocsf = checkOcsf(object.ocsf, [...path, 'ocsf']);
  return rule;
}

/** The glob `matchesAction` understands: action characters, `*`, and `{a,b}` groups (nestable). */
export function checkPattern(value: unknown, path: string[]): string {
  const name = path.join('.');
  if (typeof value !== 'string' || value.trim() === '') {
    throw badInput(`${name} must be a non-empty action pattern such as "user.*" or "*.{login,logout}"`, path);
  }
  if (value.length > MAX_ACTION_PATTERN_LENGTH) {
    throw badInput(
      `${name} is ${value.length} characters long; the limit is ${MAX_ACTION_PATTERN_LENGTH}`,
      path,
    );
  }
  if (!PATTERN_CHARACTERS.test(value)) {
    throw badInput(
      `${name} "${value}" may hold only lower-case letters, digits, "_", ".", "*" and {a,b} groups`,
      path,
    );
  }
  let depth = 0;
  for (const char of value) {
    if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0) throw badInput(`${name} "${value}" closes a "}" it never opened`, path);
      depth -= 1;
    } else if (char === ',' && depth === 0) {
      throw badInput(`${name} "${value}" has a "," outside {…}; alternatives look like {a,b}`, path);
    }
  }
  if (depth !== 0) throw badInput(`${name} "${value}" leaves a "{" unclosed`, path);
  return value;
}

function checkEnum(value: unknown, allowed: readonly string[], path: string[]): string {
  const normalized = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof normalized !== 'string' || !allowed.includes(normalized)) {
    throw badInput(
      `${path.join('.')} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`,
      path,
    );
  }
  return normalized;
}

function checkTypes(value: unknown, path: string[]): ActionType[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw badInput(`${path.join('.')} must list at least one of ${ACTION_TYPES.join(', ')}`, path);
  }
  const types = value.map((type, index) => checkEnum(type, ACTION_TYPES, [...path, String(index)]));
  return [...new Set(types)] as ActionType[];
}

function checkSeverity(value: unknown, path: string[]): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10) {
    throw badInput(
      `${path.join('.')} must be a whole number from 0 (informational) to 10 (most severe); got ${JSON.stringify(value)}`,
      path,
    );
  }
  return value;
}

function checkOcsf(value: unknown, path: string[]): { classUid: OcsfClassUid; activityId: number } {
  const object = asObject(value, path, 'an object with classUid and activityId');
  rejectUnknownFields(object, OCSF_FIELDS, path);
  const classes = Object.values(OCSF_CLASS) as number[];
  const classUid = object.classUid;
  if (typeof classUid !== 'number' || !classes.includes(classUid)) {
    const known = Object.entries(OCSF_CLASSES).map(([uid, info]) => `${uid} (${info.name})`);
    throw badInput(
      `${path.join('.')}.classUid must be one of ${known.join(', ')}; got ${JSON.stringify(classUid)}`,
      [...path, 'classUid'],
    );
  }
  const { name, activities } = OCSF_CLASSES[classUid as OcsfClassUid];
  const activityId = object.activityId;
  if (typeof activityId !== 'number' || !Object.hasOwn(activities, activityId)) {
    const known = Object.entries(activities).map(([id, caption]) => `${id} (${caption})`);
    throw badInput(
      `${path.join('.')}.activityId must be an activity of ${name}: ${known.join(', ')}; got ${JSON.stringify(activityId)}`,
      [...path, 'activityId'],
    );
  }
  return { classUid: classUid as OcsfClassUid, activityId };
}

function asObject(value: unknown, path: string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput(`${path.join('.')} must be ${what}`, path);
  }
  return value as Record<string, unknown>;
}

function rejectUnknownFields(object: Record<string, unknown>, known: ReadonlySet<string>, path: string[]) {
  const unknown = Object.keys(object).find((key) => !known.has(key));
  if (unknown !== undefined) {
    throw badInput(`${[...path, unknown].join('.')} is not a field here; use ${[...known].join(', ')}`, [
      ...path,
      unknown,
    ]);
  }
}
