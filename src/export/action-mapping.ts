/**
 * One classification of audit actions shared by every export format (ECS categories and types,
 * outcome, a 0-10 severity and the OCSF class/activity), so a SIEM sees the same meaning whichever
 * format it ingests.
 */

/** ECS `event.category` values that audit actions fall into. */
export const ACTION_CATEGORIES = [
  'api',
  'authentication',
  'configuration',
  'database',
  'file',
  'iam',
  'session',
  'web',
] as const;

export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

/** ECS `event.type` values. */
export const ACTION_TYPES = [
  'access',
  'admin',
  'allowed',
  'change',
  'creation',
  'deletion',
  'denied',
  'end',
  'error',
  'group',
  'info',
  'start',
  'user',
] as const;

export type ActionType = (typeof ACTION_TYPES)[number];

export const ACTION_OUTCOMES = ['success', 'failure', 'unknown'] as const;

export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

export const OCSF_CLASS = {
  accountChange: 3001,
  authentication: 3002,
  apiActivity: 6003,
} as const;

export type OcsfClassUid = (typeof OCSF_CLASS)[keyof typeof OCSF_CLASS];

export interface OcsfClassification {
  classUid: OcsfClassUid;
  /** Meaning depends on the class; 99 is "Other" in every class. */
  activityId: number;
}

export interface ActionClassification {
  category: ActionCategory;
  type: readonly ActionType[];
  outcome: ActionOutcome;
  /** 0 (informational) to 10 (most severe), the CEF scale. */
  severity: number;
  ocsf: OcsfClassification;
}

/**
 * `pattern` is matched against the whole action: `*` matches any run of characters (dots
 * included) and `{a,b}` matches either alternative.
 */
export interface ActionRule extends ActionClassification {
  pattern: string;
}

/** A per-organization rule: the fields it sets replace those of the default classification. */
export type ActionRuleOverride = { pattern: string } & Partial<ActionClassification>;

const { accountChange, authentication, apiActivity } = OCSF_CLASS;
const OTHER = 99;

/** Checked in order; the first matching pattern wins. */
export const DEFAULT_ACTION_RULES: readonly ActionRule[] = [
  {
    pattern: '*.login_failed',
    category: 'authentication',
    type: ['start'],
    outcome: 'failure',
    severity: 5,
    ocsf: { classUid: authentication, activityId: 1 },
  },
  {
    pattern: '*.{login,login_succeeded}',
    category: 'authentication',
    type: ['start'],
    outcome: 'success',
    severity: 2,
    ocsf: { classUid: authentication, activityId: 1 },
  },
  {
    pattern: '*.logout',
    category: 'authentication',
    type: ['end'],
    outcome: 'success',
    severity: 1,
    ocsf: { classUid: authentication, activityId: 2 },
  },
  {
    pattern: '*.mfa_failed',
    category: 'authentication',
    type: ['info'],
    outcome: 'failure',
    severity: 5,
    ocsf: { classUid: authentication, activityId: OTHER },
  },
  {
    pattern: '*.mfa_enabled',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: accountChange, activityId: 10 },
  },
  {
    pattern: '*.mfa_disabled',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 6,
    ocsf: { classUid: accountChange, activityId: 11 },
  },
  {
    pattern: '*.mfa_verified',
    category: 'authentication',
    type: ['info'],
    outcome: 'success',
    severity: 2,
    ocsf: { classUid: authentication, activityId: OTHER },
  },
  {
    pattern: '*.mfa_*',
    category: 'authentication',
    type: ['info'],
    outcome: 'unknown',
    severity: 3,
    ocsf: { classUid: authentication, activityId: OTHER },
  },
  {
    pattern: '*.password_changed',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 4,
    ocsf: { classUid: accountChange, activityId: 3 },
  },
  {
    pattern: '*.password_reset',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 4,
    ocsf: { classUid: accountChange, activityId: 4 },
  },
  {
    pattern: '{user,account,member}.created',
    category: 'iam',
    type: ['user', 'creation'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: accountChange, activityId: 1 },
  },
  {
    pattern: '{user,account,member}.enabled',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: accountChange, activityId: 2 },
  },
  {
    pattern: '{user,account,member}.disabled',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 4,
    ocsf: { classUid: accountChange, activityId: 5 },
  },
  {
    pattern: '{user,account,member}.deleted',
    category: 'iam',
    type: ['user', 'deletion'],
    outcome: 'success',
    severity: 5,
    ocsf: { classUid: accountChange, activityId: 6 },
  },
  {
    pattern: '{user,account,member}.locked',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 5,
    ocsf: { classUid: accountChange, activityId: 9 },
  },
  {
    pattern: '{user,account,member}.role_changed',
    category: 'iam',
    type: ['user', 'change', 'admin'],
    outcome: 'success',
    severity: 5,
    ocsf: { classUid: accountChange, activityId: OTHER },
  },
  {
    pattern: '{user,account,member}.{updated,*_changed}',
    category: 'iam',
    type: ['user', 'change'],
    outcome: 'success',
    severity: 2,
    ocsf: { classUid: accountChange, activityId: OTHER },
  },
  {
    pattern: '*{.,_}denied',
    category: 'api',
    type: ['denied'],
    outcome: 'failure',
    severity: 5,
    ocsf: { classUid: apiActivity, activityId: OTHER },
  },
  {
    pattern: '*{.,_}failed',
    category: 'api',
    type: ['info'],
    outcome: 'failure',
    severity: 4,
    ocsf: { classUid: apiActivity, activityId: OTHER },
  },
  {
    pattern: '{role,group,team}.created',
    category: 'iam',
    type: ['group', 'creation'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: apiActivity, activityId: 1 },
  },
  {
    pattern: '{role,group,team}.{updated,*_added,*_removed}',
    category: 'iam',
    type: ['group', 'change'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: apiActivity, activityId: 3 },
  },
  {
    pattern: '{role,group,team}.deleted',
    category: 'iam',
    type: ['group', 'deletion'],
    outcome: 'success',
    severity: 4,
    ocsf: { classUid: apiActivity, activityId: 4 },
  },
  {
    pattern: '{api_key,token}.created',
    category: 'iam',
    type: ['creation'],
    outcome: 'success',
    severity: 4,
    ocsf: { classUid: apiActivity, activityId: 1 },
  },
  {
    pattern: '{api_key,token}.{revoked,deleted}',
    category: 'iam',
    type: ['deletion'],
    outcome: 'success',
    severity: 4,
    ocsf: { classUid: apiActivity, activityId: 4 },
  },
  {
    pattern: '{settings,config,configuration}.*',
    category: 'configuration',
    type: ['change'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: apiActivity, activityId: 3 },
  },
  {
    pattern: 'file.{created,uploaded}',
    category: 'file',
    type: ['creation'],
    outcome: 'success',
    severity: 2,
    ocsf: { classUid: apiActivity, activityId: 1 },
  },
  {
    pattern: 'file.{read,viewed,downloaded}',
    category: 'file',
    type: ['access'],
    outcome: 'success',
    severity: 1,
    ocsf: { classUid: apiActivity, activityId: 2 },
  },
  {
    pattern: 'file.deleted',
    category: 'file',
    type: ['deletion'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: apiActivity, activityId: 4 },
  },
  {
    pattern: 'database.*',
    category: 'database',
    type: ['access'],
    outcome: 'unknown',
    severity: 2,
    ocsf: { classUid: apiActivity, activityId: OTHER },
  },
  {
    pattern: '{page,url}.{viewed,visited}',
    category: 'web',
    type: ['access'],
    outcome: 'success',
    severity: 0,
    ocsf: { classUid: apiActivity, activityId: 2 },
  },
  {
    pattern: '*.exported',
    category: 'api',
    type: ['access'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: apiActivity, activityId: 2 },
  },
  {
    pattern: '*.{read,viewed,listed,searched,downloaded}',
    category: 'api',
    type: ['access'],
    outcome: 'success',
    severity: 1,
    ocsf: { classUid: apiActivity, activityId: 2 },
  },
  {
    pattern: '*.created',
    category: 'api',
    type: ['creation'],
    outcome: 'success',
    severity: 2,
    ocsf: { classUid: apiActivity, activityId: 1 },
  },
  {
    pattern: '*.{updated,changed,*_changed}',
    category: 'api',
    type: ['change'],
    outcome: 'success',
    severity: 2,
    ocsf: { classUid: apiActivity, activityId: 3 },
  },
  {
    pattern: '*.{deleted,removed}',
    category: 'api',
    type: ['deletion'],
    outcome: 'success',
    severity: 3,
    ocsf: { classUid: apiActivity, activityId: 4 },
  },
];

export const FALLBACK_CLASSIFICATION: ActionClassification = {
  category: 'api',
  type: ['info'],
  outcome: 'unknown',
  severity: 1,
  ocsf: { classUid: apiActivity, activityId: OTHER },
};

export function classifyAction(
  action: string,
  overrides: readonly ActionRuleOverride[] = [],
): ActionClassification {
  const base = withoutPattern(DEFAULT_ACTION_RULES.find((rule) => matchesAction(rule.pattern, action)));
  const override = overrides.find((rule) => matchesAction(rule.pattern, action));
  if (override === undefined) return base;
  const { pattern: _pattern, ...fields } = override;
  return { ...base, ...definedFields(fields) };
}

export function matchesAction(pattern: string, action: string): boolean {
  return compiledPattern(pattern).test(action);
}

function withoutPattern(rule: ActionRule | undefined): ActionClassification {
  if (rule === undefined) return FALLBACK_CLASSIFICATION;
  const { pattern: _pattern, ...classification } = rule;
  return classification;
}

function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

const compiledPatterns = new Map<string, RegExp>();

function compiledPattern(pattern: string): RegExp {
  let regexp = compiledPatterns.get(pattern);
  if (regexp === undefined) {
    regexp = new RegExp(`^${globToRegExpSource(pattern)}$`, 's');
    compiledPatterns.set(pattern, regexp);
  }
  return regexp;
}

function globToRegExpSource(pattern: string): string {
  let source = '';
  let braceDepth = 0;
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '{') {
      braceDepth += 1;
      source += '(?:';
    } else if (char === '}' && braceDepth > 0) {
      braceDepth -= 1;
      source += ')';
    } else if (char === ',' && braceDepth > 0) source += '|';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  if (braceDepth !== 0) throw new SyntaxError(`Unbalanced "{" in action pattern: ${pattern}`);
  return source;
}
