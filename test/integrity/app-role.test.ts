import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { fromPublicId } from '../../src/ids.ts';
import { signCheckpoints } from '../../src/integrity/checkpointer.ts';
import { proofsForEvents } from '../../src/integrity/proofs.ts';
import { sealPending } from '../../src/integrity/sealer.ts';
import { loadSigningKey } from '../../src/integrity/signing-key.ts';
import { verifyIntegrity } from '../../src/integrity/verify-integrity.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { insertBackdated } from '../retention/backdated-events.ts';
import { openAsAppRole } from '../support/app-role-database.ts';

describe.runIf(process.env.DATABASE_URL)('the sealer as the least-privileged app role', () => {
  let roles: Awaited<ReturnType<typeof openAsAppRole>>;
  let owner: DatabaseHandle;
  let asApp: DatabaseHandle;

  beforeAll(async () => {
    roles = await openAsAppRole('auditline_seal_role');
    ({ owner, asApp } = roles);
  });
  afterAll(() => roles?.close());

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
