import type { AuditEvent } from '../../src/events/event.ts';
import { fromHex } from '../../src/integrity/bytes.ts';

/** A deterministic, fully populated event; `n` varies ids, times and metadata. */
export function sampleEvent(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  const hex = n.toString(16).padStart(32, '0');
  return {
    id: `evt_${hex}`,
    organizationId: 'org_0190a1b2c3d4e5f60718293a4b5c6d7e',
    action: 'user.login_failed',
    actor: { id: `user_${n}`, type: 'user', name: 'Ada Lovelace', metadata: { role: 'admin' } },
    targets: [
      { id: 'doc_1', type: 'document', name: null, metadata: null },
      { id: 'team_7', type: 'team', name: 'Core', metadata: { size: 12 } },
    ],
    context: {
      ipAddress: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
      location: null,
      requestId: `req_${n}`,
      sessionId: null,
    },
    metadata: { attempt: n, reason: 'bad_password', tags: ['mfa', 'sso'] },
    occurredAt: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, n % 1000)),
    receivedAt: new Date(Date.UTC(2024, 4, 1, 12, 0, 1, n % 1000)),
    version: 1,
    idempotencyKey: null,
    ...overrides,
  };
}

export const hex = fromHex;
