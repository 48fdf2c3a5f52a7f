import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/events/event.ts';
import type { SettledEvent } from '../../src/events/settled.ts';
import { StreamSubscription } from '../../src/stream/subscription.ts';
import { busyFor } from './support.ts';

const SUBSCRIBERS = 200;
const EVENTS = 100;

function settled(index: number): SettledEvent {
  return {
    position: { xid: String(1000 + index), id: `00000000-0000-7000-8000-${String(index).padStart(12, '0')}` },
    event: { id: `evt_${index}` } as unknown as AuditEvent,
  };
}

describe('delivering a page to many subscribers', () => {
  it('lets the event loop turn while it delivers, and still hands every subscriber every event in order', async () => {
    const subscriptions = Array.from(
      { length: SUBSCRIBERS },
      () => new StreamSubscription({ keyId: 'key_test' }, settled(-1).position, EVENTS, () => {}),
    );
    const page = Array.from({ length: EVENTS }, (_, index) => settled(index));
    for (const subscription of subscriptions) for (const event of page) subscription.push(event);

    let delivered = 0;
    const consumers = subscriptions.map(async (subscription) => {
      const received: string[] = [];
      for await (const { event } of subscription) {
        busyFor(20);
        delivered += 1;
        received.push(event.id);
        if (received.length === EVENTS) break;
      }
      return received;
    });
    // A timer stands for everything else the process serves: HTTP requests, database answers.
    const deliveredWhenTimerRan = await new Promise<number>((resolve) =>
      setTimeout(() => resolve(delivered), 0),
    );

    const received = await Promise.all(consumers);
    expect(delivered).toBe(SUBSCRIBERS * EVENTS);
    // 20,000 deliveries of 20 µs take about 400 ms; the timer ran after the first slice of about 10 ms.
    expect(deliveredWhenTimerRan).toBeGreaterThan(0);
    expect(deliveredWhenTimerRan).toBeLessThan((SUBSCRIBERS * EVENTS) / 4);
    for (const ids of received) expect(ids).toEqual(page.map(({ event }) => event.id));
  });
});
