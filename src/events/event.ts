/** The stored, server-side shape of one audit event, as every feature (GraphQL, stream, export, integrity) sees it. */
export interface AuditEvent {
  /** Public id, `evt_` + 32 hex digits of a UUIDv7 (time-ordered). */
  id: string;
  /** Public id of the owning organization, `org_` + 32 hex digits. */
  organizationId: string;
  /** `noun.verb` style, e.g. `user.login_failed`. */
  action: string;
  actor: EventActor;
  targets: EventTarget[];
  context: EventContext;
  /** Always a JSON object (empty when the app sent none). */
  metadata: Record<string, unknown>;
  /** Client time, millisecond precision, UTC. */
  occurredAt: Date;
  /** Server time; drives retention. */
  receivedAt: Date;
  version: number | null;
  idempotencyKey: string | null;
}

export interface EventActor {
  id: string;
  /** `user`, `service`, `system`, `api_key` or any app-defined type; defaults to `user`. */
  type: string;
  name: string | null;
  metadata: Record<string, unknown> | null;
}

export interface EventTarget {
  id: string;
  type: string;
  name: string | null;
  metadata: Record<string, unknown> | null;
}

export interface EventContext {
  ipAddress: string | null;
  userAgent: string | null;
  location: string | null;
  requestId: string | null;
  sessionId: string | null;
}
