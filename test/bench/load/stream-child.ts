/**
 * The live-stream subscribers, in their own process so that parsing what the server pushes never
 * shares an event loop with the server or the emitter. Each subscriber is a real graphql-ws client on
 * its own WebSocket. For every event it records emit→receive latency from the `sentAt` stamp the
 * emitter put into the event's metadata; events that carry `probe` instead only prove a subscription
 * is live. Driven over IPC by stream-subscribers.ts.
 */
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { summarizeLatencies } from './percentile.ts';
import type { StreamChildReply, StreamChildRequest, SubscriberStats } from './stream-protocol.ts';
import { wallClockMs } from './wall-clock.ts';

const SUBSCRIPTION = /* GraphQL */ `
  subscription Bench {
    eventStream { cursor node { id action occurredAt actor { id } metadata } }
  }
`;

interface Subscriber {
  client: Client;
  received: number;
  probes: Set<string>;
  ended: string | null;
}

type Next = { data?: { eventStream?: { node?: { metadata?: { sentAt?: string; probe?: string } } } } };

const subscribers: Subscriber[] = [];
let latencies: number[] = [];

function open(url: string, key: string, count: number): Promise<void> {
  const connected: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    let onConnected!: () => void;
    connected.push(new Promise((resolve) => (onConnected = resolve)));
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      lazy: false,
      retryAttempts: 0,
      on: { connected: () => onConnected() },
    });
    const subscriber: Subscriber = { client, received: 0, probes: new Set(), ended: null };
    subscribers.push(subscriber);
    client.subscribe<Next['data']>(
      { query: SUBSCRIPTION },
      {
        next: (result: Next) => {
          const metadata = result.data?.eventStream?.node?.metadata;
          if (metadata?.probe) {
            subscriber.probes.add(metadata.probe);
            return;
          }
          subscriber.received += 1;
          if (metadata?.sentAt) latencies.push(wallClockMs() - Number(metadata.sentAt));
        },
        error: (error) => {
          subscriber.ended ??= `error: ${JSON.stringify(error).slice(0, 300)}`;
        },
        complete: () => {
          subscriber.ended ??= 'completed';
        },
      },
    );
  }
  return Promise.all(connected).then(() => {});
}

function stats(): SubscriberStats {
  const counts = subscribers.map((subscriber) => subscriber.received);
  const ended = subscribers.filter((subscriber) => subscriber.ended !== null);
  return {
    subscribers: subscribers.length,
    received: counts.reduce((sum, count) => sum + count, 0),
    fewestPerSubscriber: counts.length ? Math.min(...counts) : 0,
    mostPerSubscriber: counts.length ? Math.max(...counts) : 0,
    latencyMs: summarizeLatencies(latencies),
    ended: ended.length,
    firstEnd: ended[0]?.ended ?? null,
  };
}

async function handle(request: StreamChildRequest): Promise<StreamChildReply> {
  switch (request.type) {
    case 'open':
      await open(request.url, request.key, request.count);
      return { type: 'opened', subscribers: subscribers.length };
    case 'probed':
      return {
        type: 'probed',
        live: subscribers.filter((subscriber) => subscriber.probes.has(request.probe)).length,
      };
    case 'reset':
      latencies = [];
      for (const subscriber of subscribers) subscriber.received = 0;
      return { type: 'reset' };
    case 'stats':
      return { type: 'stats', stats: stats() };
    case 'close':
      await Promise.all(subscribers.map((subscriber) => subscriber.client.dispose()));
      subscribers.length = 0;
      return { type: 'closed' };
  }
}

process.on('message', (request: StreamChildRequest) => {
  handle(request).then(
    (reply) => process.send!(reply),
    (error: Error) => process.send!({ type: 'failed', error: error.stack ?? error.message }),
  );
});
