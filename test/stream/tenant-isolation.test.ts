import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBatch } from '../../src/events/writer.ts';
import { revokeApiKey } from '../../src/tenancy/api-keys.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp, testConfig } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';
import { prepared, untilSubscribed, writeMarker } from './support.ts';

describe.each(backends())('stream tenancy on $name', (backend) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(backend);
    port = await t.app.start(0);
  });
  afterAll(() => t.close());

  it('never delivers another organization’s event, and enforces scope, organization and revocation', async () => {
    const hub = t.app.services.stream;
    const [a, b] = await Promise.all([t.tenant(), t.tenant()]);
    const platform = await t.keyFor(null, ['admin', 'events:stream']);
    const readOnly = await t.keyFor(a.organization.id, ['events:read']);
    const revocable = await t.keyFor(a.organization.id, ['events:stream']);

    const url = wsUrl(port);
    const streamsOfA = Array.from({ length: 20 }, () => openStream(url, a.key.secret));
    const ofB = openStream(url, b.key.secret);
    const platformOnA = openStream(url, platform.secret, { filter: { organizationId: a.organization.id } });
    const doomed = openStream(url, revocable.secret);
    await untilSubscribed(hub, 23);
    // Every stream of A compiles to the same condition (the platform key's organization filter is the
    // same wall), so the 22 of them share one group; B has its own.
    expect(hub.groupCount).toBe(2);

    const readsBefore = hub.stats.sharedReads + hub.stats.catchUpReads;
    const eventsOfA = [prepared(a.organization.id, 'doc.a1'), prepared(a.organization.id, 'doc.a2')];
    const eventsOfB = [prepared(b.organization.id, 'doc.b1')];
    await writeBatch(t.database.db, [eventsOfA[0]!, eventsOfB[0]!, eventsOfA[1]!]);
    const markerA = await writeMarker(t.database.db, a.organization.id);
    const markerB = await writeMarker(t.database.db, b.organization.id);
    for (const stream of [...streamsOfA, platformOnA, doomed]) await stream.waitFor(3);
    await ofB.waitFor(2);
    // Three commits reached 23 subscribers in 2 groups: a handful of reads, not one per subscriber.
    expect(hub.stats.sharedReads + hub.stats.catchUpReads - readsBefore).toBeLessThan(12);

    for (const stream of [...streamsOfA, platformOnA, doomed]) {
      expect(stream.edges.map((edge) => edge.node.action)).toEqual(['doc.a1', 'doc.a2', 'test.marker']);
      expect(stream.edges.at(-1)!.node.id).toBe(markerA);
    }
    expect(ofB.edges.map((edge) => edge.node.id)).toEqual([expect.any(String), markerB]);
    expect(ofB.edges.every((edge) => edge.node.organizationId === b.organization.id)).toBe(true);

    // A key of A asking for B's events, a key without events:stream, and no key at all.
    const crossing = openStream(url, a.key.secret, { filter: { organizationId: b.organization.id } });
    expect(await crossing.outcome).toMatchObject({
      kind: 'errors',
      errors: [{ extensions: { code: 'FORBIDDEN' } }],
    });
    const unscoped = openStream(url, readOnly.secret);
    expect(await unscoped.outcome).toMatchObject({
      kind: 'errors',
      errors: [{ message: expect.stringMatching(/events:stream/), extensions: { code: 'FORBIDDEN' } }],
    });
    const anonymous = openStream(url, 'al_live_not_a_key');
    expect(await anonymous.outcome).toMatchObject({ kind: 'closed', code: 4401 });

    // Revocation: the periodic key check (every STREAM_KEY_RECHECK_MS, 2 s by default) closes with 4410.
    expect(testConfig().stream.keyRecheckMs).toBeLessThanOrEqual(60_000);
    await revokeApiKey(t.database.db, revocable.id);
    await hub.recheckKeys();
    expect(await doomed.outcome).toMatchObject({ kind: 'closed', code: 4410 });
    expect(streamsOfA[0]!.edges).toHaveLength(3);

    await Promise.all(
      [...streamsOfA, ofB, platformOnA, doomed, crossing, unscoped, anonymous].map((stream) =>
        stream.dispose(),
      ),
    );
    await untilSubscribed(hub, 0);
  });
});
