import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPublicId } from '../../src/ids.ts';
import { fromBase64 } from '../../src/integrity/bytes.ts';
import { eventLeafHash } from '../../src/integrity/event-leaf.ts';
import { latestCheckpoints } from '../../src/integrity/log-store.ts';
import { verifyConsistency, verifyInclusion } from '../../src/integrity/merkle.ts';
import { consistencyProofFor, proofsForEvents } from '../../src/integrity/proofs.ts';
import { verifyCheckpoint } from '../../src/integrity/signed-note.ts';
import { verifyIntegrity } from '../../src/integrity/verify-integrity.ts';
import { SYSTEM_ACTOR } from '../../src/retention/audit-trail.ts';
import { placeLegalHold } from '../../src/retention/legal-holds.ts';
import { runPurge } from '../../src/retention/purge.ts';
import { auditline } from '../cli/captured-cli.ts';
import { ensureDays, insertBackdated } from '../retention/backdated-events.ts';
import { type Backend, backends } from '../support/backends.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';
import { emitEvents, eventsInStreamOrder, exportJsonLines, sealAndSign, tamper } from './support.ts';

const DAY_MS = 86_400_000;

describe.each(backends().map((backend) => backend.name))('retention and the integrity log on %s', (name) => {
  let testApp: TestApp;
  let drop = async () => {};
  let scratch: string;
  let tenant: Tenant;
  let organization: string;
  let before: { treeSize: number; signedNote: string };
  let held: string;
  let fresh: string[];

  beforeAll(async () => {
    // A purge drops whole partitions for every organization: on PostgreSQL it gets a database of its own.
    let backend = backends().find((candidate) => candidate.name === name)!;
    if (backend.name === 'postgres') {
      const database = await createFreshDatabase('auditline_integrity_retention');
      drop = database.drop;
      backend = {
        name: 'postgres',
        config: { kind: 'postgres', url: database.url, poolSize: 4 },
      } satisfies Backend;
    }
    testApp = await createTestApp(backend);
    scratch = await mkdtemp(join(tmpdir(), 'auditline-integrity-retention-'));
    tenant = await testApp.tenant();
    organization = fromPublicId('org', tenant.organization.id)!;
    const db = testApp.database.db;

    // Six events received 100 days ago (past the default 90-day window), one of them under a legal hold.
    const start = new Date(Date.now() - 100 * DAY_MS);
    await ensureDays(testApp.database, start);
    const old = await insertBackdated(
      db,
      Array.from({ length: 6 }, (_, i) => ({
        organizationId: tenant.organization.id,
        receivedAt: new Date(start.getTime() + i * 60_000),
      })),
    );
    held = old[2]!;
    const heldEvent = (await eventsInStreamOrder(db, tenant.organization.id)).find(
      (event) => event.id === held,
    )!;
    await placeLegalHold(db, {
      organizationId: tenant.organization.id,
      reason: 'litigation',
      from: heldEvent.occurredAt,
      to: new Date(heldEvent.occurredAt.getTime() + 1),
      actor: SYSTEM_ACTOR,
    });
    fresh = await emitEvents(tenant, 3);
    await sealAndSign(testApp);
    before = (await latestCheckpoints(db, [organization])).get(organization)!;
    expect(before.treeSize).toBe(10);

    const report = await runPurge(testApp.database, { defaultRetentionDays: 90 });
    expect(
      report.organizations.find((entry) => entry.organizationId === tenant.organization.id)?.deletedCount,
    ).toBe(5);
    await sealAndSign(testApp);
  });

  afterAll(async () => {
    await testApp?.close();
    await drop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('reports purged events as purged, not as tampering', async () => {
    const verifierKey = (await testApp.app.services.integrity.identity()).verifierKey;
    const report = await verifyIntegrity(testApp.database.db, organization, {
      verifierKey,
      origin: testApp.app.services.integrity.origin(organization),
      defaultRetentionDays: 90,
    });
    // 6 old + hold placed + 3 fresh + the purge's own record.
    expect(report).toMatchObject({
      ok: true,
      treeSize: 11,
      checkpointTreeSize: 11,
      checkedCount: 11,
      purgedCount: 5,
    });
  });

  it('keeps the proofs of the remaining events and the later checkpoints valid', async () => {
    const db = testApp.database.db;
    const { verifierKey } = await testApp.app.services.integrity.identity();
    const after = (await latestCheckpoints(db, [organization])).get(organization)!;
    const signed = verifyCheckpoint(after.signedNote, verifierKey);
    const remaining = await eventsInStreamOrder(db, tenant.organization.id);
    expect(remaining.map((event) => event.id)).toEqual(expect.arrayContaining([held, ...fresh]));
    expect(remaining).toHaveLength(6);
    const proofs = await proofsForEvents(
      db,
      remaining.map((event) => event.id),
    );
    for (const [i, event] of remaining.entries()) {
      const proof = proofs[i]!;
      expect(proof.treeSize).toBe(11);
      const hashes = proof.hashes.map(fromBase64);
      expect(verifyInclusion(eventLeafHash(event), proof.leafIndex, 11, hashes, signed.rootHash)).toBe(true);
    }
    const consistency = await consistencyProofFor(db, organization, before.treeSize, 11);
    const older = verifyCheckpoint(before.signedNote, verifierKey);
    expect(
      verifyConsistency(10, 11, older.rootHash, signed.rootHash, consistency.hashes.map(fromBase64)),
    ).toBe(true);

    // Offline: the export lacks the purged events, and the purge record it carries explains that.
    const files = {
      events: join(scratch, 'events.jsonl'),
      before: join(scratch, 'before.txt'),
      after: join(scratch, 'after.txt'),
      consistency: join(scratch, 'consistency.json'),
      key: join(scratch, 'key.txt'),
    };
    await writeFile(files.events, await exportJsonLines(db, tenant.organization.id));
    await writeFile(files.before, before.signedNote);
    await writeFile(files.after, after.signedNote);
    await writeFile(files.consistency, JSON.stringify(consistency));
    await writeFile(files.key, verifierKey);
    const args = ['--events', files.events, '--checkpoint', files.after, '--checkpoint', files.before];
    const offline = await auditline(
      {},
      'verify',
      ...args,
      '--consistency',
      files.consistency,
      '--public-key',
      files.key,
    );
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain(
      'OK: 6 events verified against 2 checkpoints (tree size 10, 11) and 1 consistency proof',
    );
    expect(offline.stdout).toContain(
      '5 leaves absent from the export, consistent with the retention purges it records',
    );

    const unlinked = await auditline({}, 'verify', ...args, '--public-key', files.key);
    expect(unlinked.code).toBe(1);
    expect(unlinked.stderr).toContain('no consistency proof from tree size 10 to 11');
  });

  it('still names an event deleted outside the purge', async () => {
    const db = testApp.database.db;
    await tamper(db, sql`delete from events where id = ${fromPublicId('evt', fresh[1]!)}::uuid`);
    const { verifierKey } = await testApp.app.services.integrity.identity();
    const report = await verifyIntegrity(db, organization, {
      verifierKey,
      origin: testApp.app.services.integrity.origin(organization),
      defaultRetentionDays: 90,
    });
    expect(report.firstMismatch).toMatchObject({ eventId: fresh[1], reason: 'DELETED' });
    const after = (await latestCheckpoints(db, [organization])).get(organization)!;
    await writeFile(join(scratch, 'events2.jsonl'), await exportJsonLines(db, tenant.organization.id));
    await writeFile(join(scratch, 'after2.txt'), after.signedNote);
    await writeFile(join(scratch, 'key2.txt'), verifierKey);
    const offline = await auditline(
      {},
      'verify',
      '--events',
      join(scratch, 'events2.jsonl'),
      '--checkpoint',
      join(scratch, 'after2.txt'),
      '--public-key',
      join(scratch, 'key2.txt'),
    );
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/FAILED at leaf \d+: leaf \d+ is missing from the export/);
  });
});
