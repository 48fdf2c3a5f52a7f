import { describe, expect, it } from 'vitest';
import {
  classifyAction,
  DEFAULT_ACTION_RULES,
  FALLBACK_CLASSIFICATION,
  matchesAction,
} from '../../src/export/action-mapping.ts';

describe('matchesAction', () => {
  it('matches the whole action, with * spanning any characters including dots', () => {
    expect(matchesAction('*.login', 'user.login')).toBe(true);
    expect(matchesAction('*.login', 'org.user.login')).toBe(true);
    expect(matchesAction('*.login', 'user.login_failed')).toBe(false);
    expect(matchesAction('user.*', 'user.role_changed')).toBe(true);
    expect(matchesAction('user.created', 'xuser.created')).toBe(false);
  });

  it('supports {a,b} alternatives and treats other characters literally', () => {
    expect(matchesAction('{user,account}.created', 'account.created')).toBe(true);
    expect(matchesAction('{user,account}.created', 'team.created')).toBe(false);
    expect(matchesAction('user.created', 'user-created')).toBe(false);
    expect(matchesAction('a+b.(c)', 'a+b.(c)')).toBe(true);
  });

  it('rejects an unclosed brace', () => {
    expect(() => matchesAction('{user', 'user')).toThrow(SyntaxError);
  });
});

describe('classifyAction', () => {
  it('classifies failed logins as authentication failures of severity 5', () => {
    expect(classifyAction('user.login_failed')).toEqual({
      category: 'authentication',
      type: ['start'],
      outcome: 'failure',
      severity: 5,
      ocsf: { classUid: 3002, activityId: 1 },
    });
  });

  it.each([
    ['user.login', 'authentication', 'success'],
    ['member.login_succeeded', 'authentication', 'success'],
    ['user.logout', 'authentication', 'success'],
    ['user.mfa_failed', 'authentication', 'failure'],
    ['user.mfa_challenged', 'authentication', 'unknown'],
    ['user.created', 'iam', 'success'],
    ['user.deleted', 'iam', 'success'],
    ['user.updated', 'iam', 'success'],
    ['user.role_changed', 'iam', 'success'],
    ['admin.password_changed', 'iam', 'success'],
    ['webhook.delivery_failed', 'api', 'failure'],
    ['project.denied', 'api', 'failure'],
    ['settings.retention_changed', 'configuration', 'success'],
    ['report.exported', 'api', 'success'],
    ['report.viewed', 'api', 'success'],
    ['database.query', 'database', 'unknown'],
    ['page.viewed', 'web', 'success'],
    ['file.downloaded', 'file', 'success'],
  ])('classifies %s as %s with outcome %s', (action, category, outcome) => {
    expect(classifyAction(action)).toMatchObject({ category, outcome });
  });

  it('lets the first matching rule win', () => {
    // `*.login_failed` precedes the generic `*{.,_}failed` rule.
    expect(classifyAction('user.login_failed').category).toBe('authentication');
    // `user.deleted` is an account deletion, not a generic API delete.
    expect(classifyAction('user.deleted').ocsf).toEqual({ classUid: 3001, activityId: 6 });
    expect(classifyAction('project.deleted').ocsf).toEqual({ classUid: 6003, activityId: 4 });
  });

  it('falls back for unknown actions', () => {
    expect(classifyAction('billing.invoice_sent')).toEqual(FALLBACK_CLASSIFICATION);
  });

  it('checks organization overrides before the defaults, keeping default fields they do not set', () => {
    const overrides = [
      { pattern: 'billing.*', category: 'configuration' as const, severity: 7 },
      { pattern: 'user.login_failed', severity: 9 },
    ];
    expect(classifyAction('billing.plan_changed', overrides)).toEqual({
      ...classifyAction('billing.plan_changed'),
      category: 'configuration',
      severity: 7,
    });
    expect(classifyAction('user.login_failed', overrides)).toEqual({
      ...classifyAction('user.login_failed'),
      severity: 9,
    });
    expect(classifyAction('user.login', overrides)).toEqual(classifyAction('user.login'));
  });

  it('uses only the first matching override', () => {
    const overrides = [
      { pattern: 'user.*', severity: 8 },
      { pattern: 'user.login', severity: 1, outcome: 'failure' as const },
    ];
    expect(classifyAction('user.login', overrides)).toMatchObject({ severity: 8, outcome: 'success' });
  });

  it('ignores override fields set to undefined', () => {
    expect(classifyAction('user.login', [{ pattern: 'user.login', severity: undefined }]).severity).toBe(2);
  });

  it('exports a default table whose rules are all well-formed', () => {
    expect(DEFAULT_ACTION_RULES.length).toBeGreaterThan(10);
    for (const rule of DEFAULT_ACTION_RULES) {
      expect(() => matchesAction(rule.pattern, 'x')).not.toThrow();
      expect(rule.severity).toBeGreaterThanOrEqual(0);
      expect(rule.severity).toBeLessThanOrEqual(10);
      expect(rule.type.length).toBeGreaterThan(0);
      expect([3001, 3002, 6003]).toContain(rule.ocsf.classUid);
      expect(rule.ocsf.classUid * 100 + rule.ocsf.activityId).toBeGreaterThan(300100);
    }
  });
});
