import { isIP } from 'node:net';
import type { AuditEvent, EventActor, EventTarget } from '../../events/event.ts';

export interface IpAddress {
  address: string;
  family: 4 | 6;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The event's client address when it is a valid IP (IPv4-mapped IPv6 reported as IPv4), else null. */
export function clientIp(event: AuditEvent): IpAddress | null {
  const raw = event.context.ipAddress;
  if (raw === null) return null;
  const address = raw.match(IPV4_MAPPED)?.[1] ?? raw;
  const family = isIP(address);
  return family === 4 || family === 6 ? { address, family } : null;
}

/** `user.login_failed` → `user login failed`. */
export function readableAction(action: string): string {
  return action.replace(/[._]+/g, ' ').trim();
}

export function firstTarget(event: AuditEvent): EventTarget | null {
  return event.targets[0] ?? null;
}

const ACCOUNT_TYPES = new Set(['user', 'account', 'member']);

export function isAccount(entity: EventActor | EventTarget): boolean {
  return ACCOUNT_TYPES.has(entity.type);
}

/** The account an authentication or account-change event is about: a targeted account, else the actor. */
export function subjectAccount(event: AuditEvent): EventActor | EventTarget {
  return event.targets.find(isAccount) ?? event.actor;
}

export function actorDisplayName(actor: EventActor): string {
  return actor.name ?? actor.id;
}

export function compactJson(value: unknown): string {
  return JSON.stringify(value);
}

export function isEmptyObject(value: Record<string, unknown>): boolean {
  return Object.keys(value).length === 0;
}

/** Drops null and undefined entries, so optional fields are absent rather than null. */
export function withoutNulls<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== null && value !== undefined),
  ) as Partial<T>;
}

export function nullIfEmpty<T extends Record<string, unknown>>(value: T): T | null {
  return isEmptyObject(value) ? null : value;
}
