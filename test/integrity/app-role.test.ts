import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { fromPublicId } from '../../src/ids.ts';
import { signCheckpoints } from '../../src/integrity/checkpointer.ts';
import { proofsForEvents } from '../../src/integrity/proofs.ts';
import { sealPending } from '../../src/integrity/sealer.ts';
import { loadSigningKey } from '../../src/integrity/signing-key.ts';
import { verifyIntegrity } from '../../src/integrity/verify-integrity.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { insertBackdated } from '../retention/backdated-events.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';

describe.runIf(process.env.DATABASE_URL)('the sealer as the least-privileged app role', () => {
  let fresh: Awaited<ReturnType<typeof createFreshDatabase>>;
  let owner: DatabaseHandle;
  let asApp: DatabaseHandle;
  const login = `auditline_seal_${process.pid}_${Date.now().toString(36)}`;

  beforeAll(async () => {
    fresh = await createFreshDatabase('auditline_seal_role');
    owner = await openDatabase({ kind: 'postgres', url: fresh.url, poolSize: 2 });
    await migrateDatabase(owner);
    await owner.raw.query(`create role ${login} login in role auditline_app`);
    const url = new URL(fresh.url);
    url.username = login;
    asApp = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 });
  });

  afterAll(async () => {
    await asApp?.close();
    await owner?.raw.query(`drop owned by ${login}`).catch(() => {});
    await owner?.close();
    await fresh?.drop();
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop role if exists ${login}`);
    await admin.end();
  });

  it('seals, signs, proves and verifies, but cannot rewrite the log', async () => {
    const organization = await createOrganization(owner.db, 'acme');
    const [eventId] = await insertBackdated(owner.db, [
      { organizationId: organization.id, receivedAt: new Date() },
      { organizationId: organization.id, receivedAt: new Date() },
    ]);
    const db = asApp.db;
    expect((await sealPending(db)).sealed).toBe(2);
    const identity = await loadSigningKey(db, null, 'auditline.example');
    expect(await signCheckpoints(db, { originPrefix: 'auditline.example', identity })).toEqual({ signed: 1 });
    expect((await proofsForEvents(db, [eventId!]))[0]).toMatchObject({ treeSize: 2 });
    const uuid = fromPublicId('org', organization.id)!;
    const report = await verifyIntegrity(db, uuid, {
      verifierKey: identity.verifierKey,
      origin: `auditline.example/${organization.id}`,
      defaultRetentionDays: 90,
    });
    expect(report).toMatchObject({ ok: true, checkedCount: 2 });
    for (const statement of [
      'update merkle_leaves set leaf_hash = leaf_hash',
      'delete from merkle_nodes',
      'delete from checkpoints',
      'truncate merkle_leaves',
    ]) {
      await expect(asApp.raw.query(statement), statement).rejects.toThrow(/permission denied|append-only/);
    }
  });
});
