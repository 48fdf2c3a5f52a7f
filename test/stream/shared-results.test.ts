import { type ExecutionResult, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useSharedSubscriptionResults } from '../../src/stream/shared-results.ts';

/** A schema whose subscription hands the same event objects to every subscriber, as stream groups do. */
function fanOutSchema() {
  const listeners = new Set<(event: { id: string }) => void>();
  const resolved = { id: 0, upper: 0 };
  const Tick = new GraphQLObjectType({
    name: 'Tick',
    fields: {
      id: {
        type: GraphQLString,
        resolve: (event: { id: string }) => {
          resolved.id += 1;
          return event.id;
        },
      },
      upper: {
        type: GraphQLString,
        resolve: (event: { id: string }) => {
          resolved.upper += 1;
          return event.id.toUpperCase();
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        ticks: {
          type: Tick,
          args: { prefix: { type: GraphQLString } },
          subscribe: async function* () {
            const queue: { id: string }[] = [];
            let wake: (() => void) | null = null;
            const listener = (event: { id: string }) => {
              queue.push(event);
              wake?.();
            };
            listeners.add(listener);
            try {
              for (;;) {
                while (queue.length > 0) yield queue.shift()!;
                await new Promise<void>((resolve) => (wake = resolve));
              }
            } finally {
              listeners.delete(listener);
            }
          },
          resolve: (event: { id: string }) => event,
        },
      },
    }),
  });
  const publish = (event: { id: string }) => {
    for (const listener of listeners) listener(event);
  };
  return { schema, publish, resolved, subscribers: () => listeners.size };
}

async function subscribe(
  yoga: ReturnType<typeof createYoga>,
  query: string,
  auth: unknown,
  variables: Record<string, unknown> = {},
) {
  const enveloped = yoga.getEnveloped({ auth });
  const result = await enveloped.subscribe({
    schema: enveloped.schema,
    document: parse(query),
    variableValues: variables,
    contextValue: await enveloped.contextFactory(),
  });
  return result as AsyncIterableIterator<ExecutionResult>;
}

const viewer = (organizationId: string | null, scopes: string[]) => ({
  viewer: { keyId: 'key', organizationId, scopes: new Set(scopes) },
});

describe('shared subscription results', () => {
  it('executes an event once per distinct operation and viewer, and gives each subscriber its own shape', async () => {
    const { schema, publish, resolved, subscribers } = fanOutSchema();
    const yoga = createYoga({ schema, plugins: [useSharedSubscriptionResults()] });
    const orgKey = viewer('org-a', ['events:stream']);
    const sameQuery = 'subscription { ticks { id } }';
    const streams = [
      await subscribe(yoga, sameQuery, orgKey),
      await subscribe(yoga, sameQuery, orgKey),
      await subscribe(yoga, sameQuery, orgKey),
      await subscribe(yoga, 'subscription { ticks { id upper } }', orgKey),
      await subscribe(yoga, sameQuery, viewer(null, ['admin', 'events:stream'])),
      await subscribe(yoga, 'subscription Named($p: String) { ticks(prefix: $p) { id } }', orgKey, {
        p: 'x',
      }),
    ];
    const firsts = streams.map((stream) => stream.next());
    await expect.poll(subscribers).toBe(streams.length);

    publish({ id: 'e1' });
    const results = (await Promise.all(firsts)).map((result) => result.value);
    expect(results.slice(0, 3)).toEqual(Array(3).fill({ data: { ticks: { id: 'e1' } } }));
    expect(results[3]).toEqual({ data: { ticks: { id: 'e1', upper: 'E1' } } });
    expect(results[4]).toEqual({ data: { ticks: { id: 'e1' } } });
    expect(results[5]).toEqual({ data: { ticks: { id: 'e1' } } });
    // Four distinct (document, variables, viewer) operations: the three identical ones shared one execution.
    expect(resolved).toEqual({ id: 4, upper: 1 });

    const seconds = streams.map((stream) => stream.next());
    publish({ id: 'e2' });
    expect((await Promise.all(seconds)).map((result) => result.value.data.ticks.id)).toEqual(
      Array(streams.length).fill('e2'),
    );
    expect(resolved).toEqual({ id: 8, upper: 2 });

    // Ending a subscriber ends its source: nothing is left listening.
    await Promise.all(streams.map((stream) => stream.return?.()));
    expect(subscribers()).toBe(0);
  });

  it('passes errors of the subscribe resolver through unchanged', async () => {
    const yoga = createYoga({
      schema: new GraphQLSchema({
        query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
        subscription: new GraphQLObjectType({
          name: 'Subscription',
          fields: {
            denied: {
              type: GraphQLString,
              subscribe: () => {
                throw new Error('not allowed');
              },
            },
          },
        }),
      }),
      plugins: [useSharedSubscriptionResults()],
      maskedErrors: false,
    });
    const result = (await subscribe(yoga, 'subscription { denied }', null)) as unknown as ExecutionResult;
    expect(result.errors?.map((error) => error.message)).toEqual(['not allowed']);
  });
});
