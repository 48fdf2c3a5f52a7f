import { EventFilterInput, EventRef, readScope } from '../events/event.graphql.ts';
import { compileEventWhere } from '../events/filter.ts';
import {
  currentStreamPosition,
  decodeStreamCursor,
  encodeStreamCursor,
  type SettledEvent,
  STREAM_BEGINNING,
} from '../events/settled.ts';
import { builder } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { CloseCodes } from '../websocket.ts';
import { type StreamEndReason, streamEndMessages } from './subscription.ts';

// The only subscription root field so far; other features add theirs with builder.subscriptionField.
builder.subscriptionType({});

const StreamStartEnum = builder.enumType('StreamStart', {
  description: 'Where a stream without `after` begins.',
  values: {
    NOW: { description: 'With the events that settle from now on (the default).' },
    BEGINNING: { description: 'With the oldest stored event, then on into live events.' },
  },
});

const cursors = new WeakMap<SettledEvent, string>();

/** Every subscriber of a group gets the same objects, so a cursor is encoded once per event. */
const cursorOf = (edge: SettledEvent) => {
  let cursor = cursors.get(edge);
  if (cursor === undefined) {
    cursor = encodeStreamCursor(edge.position);
    cursors.set(edge, cursor);
  }
  return cursor;
};

const EventStreamEdgeRef = builder.objectRef<SettledEvent>('EventStreamEdge').implement({
  description: 'One event of a live stream, with the cursor to resume after it.',
  fields: (t) => ({
    cursor: t.string({
      description: 'Pass as `after` to resume the stream right after this event.',
      resolve: cursorOf,
    }),
    node: t.field({ type: EventRef, resolve: (edge) => edge.event }),
  }),
});

const closeCodes: Record<StreamEndReason, number> = {
  'slow-consumer': CloseCodes.SlowConsumer,
  'key-revoked': CloseCodes.KeyRevoked,
  'shutting-down': 1001,
};

/** Over WebSockets the server ends a stream by closing the connection with a code the client can act on. */
function closeConnection(ctx: GraphQLContext, reason: StreamEndReason) {
  const socket = (ctx as { socket?: { close(code: number, reason: string): void } }).socket;
  socket?.close(closeCodes[reason], streamEndMessages[reason].message);
}

builder.subscriptionField('eventStream', (t) =>
  t.field({
    type: EventStreamEdgeRef,
    description:
      'Every event the filter and query match, once each, in settled stream order: `after` a cursor, or ' +
      'from `from` (NOW by default); past events first, then live ones with no gap at the seam. Scope events:stream.',
    args: {
      filter: t.arg({ type: EventFilterInput }),
      query: t.arg.string({ description: 'Search syntax, as for `events`.' }),
      after: t.arg.string({
        description: 'A cursor from an earlier EventStreamEdge: resume right after it.',
      }),
      from: t.arg({ type: StreamStartEnum, defaultValue: 'NOW' }),
    },
    subscribe: async (_root, args, ctx) => {
      const organizationUuid = readScope(ctx, args.filter, 'events:stream');
      const where = compileEventWhere(organizationUuid, args.filter, args.query);
      const after = args.after
        ? decodeStreamCursor(args.after)
        : args.from === 'BEGINNING'
          ? STREAM_BEGINNING
          : await currentStreamPosition(ctx.services.database.db);
      return ctx.services.stream.open({
        organizationUuid,
        where,
        after,
        keyId: ctx.auth.viewer!.keyId,
        onEnd: (reason) => closeConnection(ctx, reason),
      });
    },
    resolve: (edge) => edge,
  }),
);
