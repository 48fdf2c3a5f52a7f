import { badInput } from '../errors.ts';
import { MAX_CURSOR_LENGTH } from './input-limits.ts';

/** Position in `occurred_at, id` order. Opaque to clients: base64url of JSON. */
export interface PageCursor {
  occurredAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodePageCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(['p', cursor.occurredAt.toISOString(), cursor.id])).toString('base64url');
}

export function decodePageCursor(value: string, argument: string): PageCursor {
  if (value.length > MAX_CURSOR_LENGTH) {
    throw badInput(
      `${argument} is ${value.length} characters long; a cursor is at most ${MAX_CURSOR_LENGTH}`,
      [argument],
    );
  }
  try {
    const decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      Array.isArray(decoded) &&
      decoded[0] === 'p' &&
      typeof decoded[1] === 'string' &&
      UUID.test(decoded[2])
    ) {
      const occurredAt = new Date(decoded[1]);
      if (!Number.isNaN(occurredAt.getTime())) return { occurredAt, id: decoded[2] };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput(`${argument} is not a cursor returned by this API`, [argument]);
}
