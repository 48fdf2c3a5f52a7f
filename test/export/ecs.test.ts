import { describe, expect, it } from 'vitest';
import { ECS_VERSION, toEcs, toEcsLine } from '../../src/export/formats/ecs.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

function ecsEventFor(action: string) {
  return toEcs(eventWith({ action })).event;
}

describe('ECS', () => {
  it.each([
    ['user.login_failed', ['authentication'], ['start'], 'failure'],
    ['user.login', ['authentication'], ['start'], 'success'],
    ['user.logout', ['authentication'], ['end'], 'success'],
    ['user.created', ['iam'], ['user', 'creation'], 'success'],
    ['user.deleted', ['iam'], ['user', 'deletion'], 'success'],
    ['team.created', ['iam'], ['group', 'creation'], 'success'],
    ['settings.updated', ['configuration'], ['change'], 'success'],
    ['file.uploaded', ['file'], ['creation'], 'success'],
    ['document.read', ['api'], ['access'], 'success'],
    ['project.access_denied', ['api'], ['denied'], 'failure'],
    ['payment.failed', ['api'], ['info'], 'failure'],
    ['project.denied', ['api'], ['denied'], 'failure'],
    ['billing.invoice_sent', ['api'], ['info'], 'unknown'],
  ])('categorizes %s as %j / %j / %s', (action, category, type, outcome) => {
    expect(ecsEventFor(action)).toMatchObject({ kind: 'event', action, category, type, outcome });
  });

  it('writes timestamps, version and ids', () => {
    const ecs = toEcs(FIXTURES.failedLogin);
    expect(ecs['@timestamp']).toBe('2024-05-06T07:08:09.123Z');
    expect(ecs.ecs).toEqual({ version: ECS_VERSION });
    expect(ecs.event).toMatchObject({
      id: FIXTURES.failedLogin.id,
      created: '2024-05-06T07:08:09.456Z',
      severity: 5,
    });
    expect(ecs.organization).toEqual({ id: FIXTURES.failedLogin.organizationId });
  });

  it('maps actor, targeted account, source and user agent', () => {
    const ecs = toEcs(FIXTURES.failedLogin);
    expect(ecs.user).toEqual({
      id: 'usr_ada',
      name: 'Ada "Countess" Lovelace, FRS',
      target: { id: 'usr_ada', name: '=HYPERLINK("http://evil.example")' },
    });
    expect(ecs.source).toEqual({ ip: '203.0.113.7' });
    expect(ecs.user_agent).toEqual({ original: FIXTURES.failedLogin.context.userAgent });
    expect(ecs.http).toEqual({ request: { id: 'req_7f3a' } });
  });

  it('sets user.target only for account targets', () => {
    expect((toEcs(FIXTURES.ipv6ApiRead).user as Record<string, unknown>).target).toBeUndefined();
    expect((toEcs(FIXTURES.userCreated).user as Record<string, unknown>).target).toEqual({ id: 'usr_new' });
  });

  it('collects related users and IPs without duplicates', () => {
    expect(toEcs(FIXTURES.failedLogin).related).toEqual({
      user: ['usr_ada', 'Ada "Countess" Lovelace, FRS', '=HYPERLINK("http://evil.example")'],
      ip: ['203.0.113.7'],
    });
    expect(toEcs(FIXTURES.userCreated).related).toEqual({ user: ['system', 'usr_new'] });
  });

  it('keeps the rest in labels and auditline', () => {
    const ecs = toEcs(FIXTURES.ipv6ApiRead);
    expect(ecs.labels).toEqual({ actor_type: 'api_key', session_id: 'ses_5e2b' });
    expect(ecs.auditline).toEqual({
      targets: [{ id: 'doc_42', type: 'document', name: 'Q3 plan' }],
      version: 2,
    });
    expect((toEcs(FIXTURES.failedLogin).auditline as Record<string, unknown>).metadata).toEqual(
      FIXTURES.failedLogin.metadata,
    );
  });

  it('omits absent fields rather than writing null', () => {
    expect(toEcsLine(FIXTURES.userCreated)).not.toContain('"source"');
    expect(toEcs(FIXTURES.userCreated).user).toEqual({ id: 'system', target: { id: 'usr_new' } });
  });
});
