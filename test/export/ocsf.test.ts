import { describe, expect, it } from 'vitest';
import { OCSF_SCHEMA_VERSION, toOcsf, toOcsfLine } from '../../src/export/formats/ocsf.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

function ocsfFor(action: string, base = FIXTURES.userCreated) {
  return toOcsf(eventWith({ action }, base));
}

describe('OCSF', () => {
  it.each([
    ['user.login', 3002, 1, 'Logon'],
    ['user.login_succeeded', 3002, 1, 'Logon'],
    ['user.login_failed', 3002, 1, 'Logon'],
    ['user.logout', 3002, 2, 'Logoff'],
    ['user.mfa_challenged', 3002, 99, 'user.mfa_challenged'],
    ['user.created', 3001, 1, 'Create'],
    ['user.password_changed', 3001, 3, 'Password Change'],
    ['user.deleted', 3001, 6, 'Delete'],
    ['user.mfa_enabled', 3001, 10, 'MFA Factor Enable'],
    ['user.role_changed', 3001, 99, 'user.role_changed'],
    ['document.read', 6003, 2, 'Read'],
    ['project.created', 6003, 1, 'Create'],
    ['project.updated', 6003, 3, 'Update'],
    ['project.deleted', 6003, 4, 'Delete'],
    ['billing.invoice_sent', 6003, 99, 'billing.invoice_sent'],
  ])('classifies %s as class %i, activity %i (%s)', (action, classUid, activityId, activityName) => {
    const ocsf = ocsfFor(action);
    expect(ocsf).toMatchObject({ class_uid: classUid, activity_id: activityId, activity_name: activityName });
    expect(ocsf.type_uid).toBe(classUid * 100 + activityId);
    expect(ocsf.category_uid).toBe(Math.floor(classUid / 1000));
  });

  it('names class, category and type', () => {
    expect(toOcsf(FIXTURES.failedLogin)).toMatchObject({
      class_name: 'Authentication',
      category_name: 'Identity & Access Management',
      type_uid: 300201,
      type_name: 'Authentication: Logon',
    });
    expect(toOcsf(FIXTURES.ipv6ApiRead)).toMatchObject({
      class_name: 'API Activity',
      category_uid: 6,
      category_name: 'Application Activity',
      type_uid: 600302,
      type_name: 'API Activity: Read',
    });
    expect(ocsfFor('billing.invoice_sent').type_name).toBe('API Activity: Other');
  });

  it('maps outcomes to status_id 1 Success, 2 Failure, 0 Unknown', () => {
    expect(toOcsf(FIXTURES.failedLogin)).toMatchObject({ status_id: 2, status: 'Failure' });
    expect(toOcsf(FIXTURES.ipv6ApiRead)).toMatchObject({ status_id: 1, status: 'Success' });
    expect(ocsfFor('billing.invoice_sent')).toMatchObject({ status_id: 0, status: 'Unknown' });
  });

  it('maps the 0-10 severity onto severity_id', () => {
    const severityId = (severity: number) =>
      toOcsf(FIXTURES.userCreated, { actionOverrides: [{ pattern: '*', severity }] }).severity_id;
    expect([0, 1, 2, 3, 4, 6, 7, 8, 9, 10].map(severityId)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(toOcsf(FIXTURES.failedLogin)).toMatchObject({ severity_id: 3, severity: 'Medium' });
  });

  it('writes times, product and tenant in metadata', () => {
    const ocsf = toOcsf(FIXTURES.failedLogin);
    expect(ocsf.time).toBe(FIXTURES.failedLogin.occurredAt.getTime());
    expect(ocsf.metadata).toEqual({
      version: OCSF_SCHEMA_VERSION,
      product: { name: 'Auditline', vendor_name: 'Auditline' },
      uid: FIXTURES.failedLogin.id,
      tenant_uid: FIXTURES.failedLogin.organizationId,
      event_code: 'user.login_failed',
      correlation_uid: 'req_7f3a',
      original_time: '2024-05-06T07:08:09.123Z',
      logged_time: FIXTURES.failedLogin.receivedAt.getTime(),
    });
  });

  it('describes the actor, and the account an IAM event is about as user', () => {
    const ocsf = toOcsf(FIXTURES.userCreated);
    expect(ocsf.actor).toEqual({ user: { uid: 'system', type: 'System', type_id: 3 } });
    expect(ocsf.user).toEqual({ uid: 'usr_new', type: 'User', type_id: 1 });
  });

  it('falls back to the actor as user when no account is targeted', () => {
    const event = eventWith({ action: 'user.logout', targets: [] }, FIXTURES.failedLogin);
    expect(toOcsf(event).user).toMatchObject({ uid: 'usr_ada', type_id: 1 });
  });

  it('describes API activity with api.operation and resources instead of user', () => {
    const ocsf = toOcsf(FIXTURES.ipv6ApiRead);
    expect(ocsf.api).toEqual({ operation: 'document.read' });
    expect(ocsf.resources).toEqual([{ uid: 'doc_42', name: 'Q3 plan', type: 'document' }]);
    expect(ocsf.user).toBeUndefined();
    expect(ocsf.actor).toEqual({
      user: { uid: 'key_ci', name: 'CI deploy key', type: 'api_key', type_id: 99 },
      session: { uid: 'ses_5e2b' },
    });
    expect(ocsf.src_endpoint).toEqual({ ip: '2001:db8::1' });
    expect(ocsf.http_request).toEqual({ user_agent: 'auditline-cli/1.2.0' });
  });

  it('keeps metadata and location in unmapped', () => {
    expect(toOcsf(FIXTURES.failedLogin).unmapped).toMatchObject({
      metadata: FIXTURES.failedLogin.metadata,
      location: 'London, GB',
    });
    expect(toOcsf(FIXTURES.ipv6ApiRead).unmapped).toBeUndefined();
  });

  it('serializes to one JSON line', () => {
    expect(JSON.parse(toOcsfLine(FIXTURES.failedLogin))).toEqual(toOcsf(FIXTURES.failedLogin));
  });
});
