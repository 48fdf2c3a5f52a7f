import type { AuditEvent } from '../../src/events/event.ts';

const ORG_ID = 'org_0190f3a2b4c57d6e8f90a1b2c3d4e5f6';

/**
 * A failed login from IPv4 whose metadata holds every character some format must escape, and
 * whose user agent tries to inject a second log line.
 */
export const failedLogin: AuditEvent = {
  id: 'evt_0190f3a2b4c57d6e8f90a1b2c3d4e501',
  organizationId: ORG_ID,
  action: 'user.login_failed',
  actor: {
    id: 'usr_ada',
    type: 'user',
    name: 'Ada "Countess" Lovelace, FRS',
    metadata: { plan: 'enterprise' },
  },
  targets: [{ id: 'usr_ada', type: 'user', name: '=HYPERLINK("http://evil.example")', metadata: null }],
  context: {
    ipAddress: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)\r\nCEF:0|Forged|Event|1|x|y|10|',
    location: 'London, GB',
    requestId: 'req_7f3a',
    sessionId: null,
  },
  metadata: {
    reason: 'bad password',
    query: 'a=b&c=d',
    pipeline: 'left|right',
    path: 'C:\\Users\\ada',
    note: 'line one\nline two\r\nline three',
    caret: 'x^y',
    quote: 'she said "hi", then left',
  },
  occurredAt: new Date('2024-05-06T07:08:09.123Z'),
  receivedAt: new Date('2024-05-06T07:08:09.456Z'),
  version: 1,
  idempotencyKey: 'login-attempt-42',
};

/** An API-key read from IPv6 with empty metadata. */
export const ipv6ApiRead: AuditEvent = {
  id: 'evt_0190f3a2b4c57d6e8f90a1b2c3d4e502',
  organizationId: ORG_ID,
  action: 'document.read',
  actor: { id: 'key_ci', type: 'api_key', name: 'CI deploy key', metadata: null },
  targets: [{ id: 'doc_42', type: 'document', name: 'Q3 plan', metadata: { folder: 'finance' } }],
  context: {
    ipAddress: '2001:db8::1',
    userAgent: 'auditline-cli/1.2.0',
    location: null,
    requestId: 'req_9c01',
    sessionId: 'ses_5e2b',
  },
  metadata: {},
  occurredAt: new Date('2024-05-06T07:09:00.000Z'),
  receivedAt: new Date('2024-05-06T07:09:00.007Z'),
  version: 2,
  idempotencyKey: null,
};

/** A system-created user with two targets and every nullable field null. */
export const userCreated: AuditEvent = {
  id: 'evt_0190f3a2b4c57d6e8f90a1b2c3d4e503',
  organizationId: ORG_ID,
  action: 'user.created',
  actor: { id: 'system', type: 'system', name: null, metadata: null },
  targets: [
    { id: 'usr_new', type: 'user', name: null, metadata: null },
    { id: 'team_7', type: 'team', name: 'Platform', metadata: null },
  ],
  context: { ipAddress: null, userAgent: null, location: null, requestId: null, sessionId: null },
  metadata: {},
  occurredAt: new Date('2024-05-06T07:10:11.001Z'),
  receivedAt: new Date('2024-05-06T07:10:11.001Z'),
  version: null,
  idempotencyKey: null,
};

export const FIXTURES = { failedLogin, ipv6ApiRead, userCreated } as const;

export function eventWith(overrides: Partial<AuditEvent>, base: AuditEvent = userCreated): AuditEvent {
  return { ...base, ...overrides };
}
