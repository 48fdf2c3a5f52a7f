import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPublicId, uuidv7 } from '../../src/ids.ts';
import { toHex } from '../../src/integrity/bytes.ts';
import { eventLeafHash } from '../../src/integrity/event-leaf.ts';
import { latestCheckpoints } from '../../src/integrity/log-store.ts';
import { rootHash } from '../../src/integrity/merkle.ts';
import { sealPending } from '../../src/integrity/sealer.ts';
import { generateSigningKey, signCheckpoint } from '../../src/integrity/signed-note.ts';
import { verifyIntegrity } from '../../src/integrity/verify-integrity.ts';
import { auditline } from '../cli/captured-cli.ts';
import { type Backend, backends } from '../support/backends.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';
import { emitEvents, eventsInStreamOrder, exportJsonLines, sealAndSign, tamper } from './support.ts';

/** Tampering takes triggers off, which locks the tables: on PostgreSQL it gets a database of its own. */
async function isolated(name: Backend['name']): Promise<{ backend: Backend; drop(): Promise<void> }> {
  const backend = backends().find((candidate) => candidate.name === name)!;
  if (backend.name === 'pglite') return { backend, drop: async () => {} };
  const fresh = await createFreshDatabase('auditline_tamper');
  return {
    backend: { name: backend.name, config: { kind: 'postgres', url: fresh.url, poolSize: 4 } },
    drop: fresh.drop,
  };
}

const uuid = (publicId: string) => fromPublicId('evt', publicId)!;

describe.each(backends().map((backend) => backend.name))(
  'tampering by a database superuser on %s',
  (name) => {
    let testApp: TestApp;
    let drop: () => Promise<void>;
    let scratch: string;
    let verifierKey: string;

    beforeAll(async () => {
      const database = await isolated(name);
      drop = database.drop;
      testApp = await createTestApp(database.backend);
      verifierKey = (await testApp.app.services.integrity.identity()).verifierKey;
      scratch = await mkdtemp(join(tmpdir(), 'auditline-tamper-'));
    });

    afterAll(async () => {
      await testApp?.close();
      await drop?.();
      await rm(scratch, { recursive: true, force: true });
    });

    /** Six events, each in its own transaction (so each has its own stream position), sealed and signed. */
    async function sealedLog(): Promise<{ tenant: Tenant; ids: string[]; checkpoint: string }> {
      const tenant = await testApp.tenant();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(...(await emitEvents(tenant, 1, () => ({ n: i }))));
      await sealAndSign(testApp);
      const organization = fromPublicId('org', tenant.organization.id)!;
      const checkpoint = (await latestCheckpoints(testApp.database.db, [organization])).get(organization)!;
      expect(checkpoint.treeSize).toBe(6);
      return { tenant, ids, checkpoint: checkpoint.signedNote };
    }

    function verifyServerSide(tenant: Tenant) {
      const organization = fromPublicId('org', tenant.organization.id)!;
      return verifyIntegrity(testApp.database.db, organization, {
        verifierKey,
        origin: testApp.app.services.integrity.origin(organization),
        defaultRetentionDays: 90,
      });
    }

    /** `auditline verify` on an export taken now, against the checkpoint saved before the tampering. */
    async function verifyOffline(tenant: Tenant, checkpoints: string[]) {
      const directory = await mkdtemp(join(scratch, 'case-'));
      const files = {
        events: join(directory, 'events.jsonl'),
        key: join(directory, 'key.txt'),
        checkpoints: checkpoints.map((_, i) => join(directory, `cp${i}.txt`)),
      };
      await writeFile(files.events, await exportJsonLines(testApp.database.db, tenant.organization.id));
      await writeFile(files.key, `${verifierKey}\n`);
      for (const [i, note] of checkpoints.entries()) await writeFile(files.checkpoints[i]!, note);
      const checkpointArgs = files.checkpoints.flatMap((file) => ['--checkpoint', file]);
      return auditline({}, 'verify', '--events', files.events, ...checkpointArgs, '--public-key', files.key);
    }

    it('passes an untouched log, online and offline', async () => {
      const { tenant, checkpoint } = await sealedLog();
      expect(await verifyServerSide(tenant)).toMatchObject({ ok: true, checkedCount: 6 });
      const offline = await verifyOffline(tenant, [checkpoint]);
      expect(offline).toMatchObject({ code: 0, stderr: '' });
      expect(offline.stdout).toMatch(/^OK: 6 events verified against 1 checkpoint \(tree size 6\)/);
    });

    it('names a changed event', async () => {
      const { tenant, ids, checkpoint } = await sealedLog();
      await tamper(
        testApp.database.db,
        sql`update events set metadata = '{"n": 99}'::jsonb where id = ${uuid(ids[2]!)}::uuid`,
      );
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: 2,
        eventId: ids[2],
        reason: 'CHANGED',
      });
      const offline = await verifyOffline(tenant, [checkpoint]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toContain(
        `verification FAILED at line 3 (${ids[2]}, leaf 2): event is not leaf 2`,
      );
    });

    it('names a deleted event', async () => {
      const { tenant, ids, checkpoint } = await sealedLog();
      await tamper(testApp.database.db, sql`delete from events where id = ${uuid(ids[2]!)}::uuid`);
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: 2,
        eventId: ids[2],
        reason: 'DELETED',
      });
      const offline = await verifyOffline(tenant, [checkpoint]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(/verification FAILED at leaf 2: leaf 2 is missing from the export/);
    });

    it('names an event inserted among sealed ones', async () => {
      const { tenant, ids, checkpoint } = await sealedLog();
      const db = testApp.database.db;
      const forged = uuidv7();
      // A copy of event 2 with a new id, placed at event 2's stream position, which the sealer has passed.
      await tamper(
        db,
        sql`insert into events select ${forged}::uuid, organization_id, action, actor_id, actor_type, actor_name,
        actor_metadata, targets, target_ids, target_types, ip_address, user_agent, location, request_id, session_id,
        '{"n": 2.5}'::jsonb, search_text, occurred_at, received_at, version, idempotency_key, xid
        from events where id = ${uuid(ids[2]!)}::uuid`,
      );
      await sealPending(db);
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: 3,
        eventId: `evt_${forged.replaceAll('-', '')}`,
        reason: 'INSERTED',
      });
      const offline = await verifyOffline(tenant, [checkpoint]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(
        /verification FAILED at line \d \(evt_[0-9a-f]{32}\): the event has no inclusion proof/,
      );
      expect(offline.stderr).toContain(forged.replaceAll('-', ''));
    });

    it('names an event written into the past, even once sealed', async () => {
      const { tenant, ids } = await sealedLog();
      const db = testApp.database.db;
      const forged = uuidv7();
      await tamper(
        db,
        sql`insert into events (id, organization_id, action, actor_id, actor_type, targets, target_ids, target_types,
          metadata, search_text, occurred_at, received_at)
        select ${forged}::uuid, organization_id, 'user.password_reset', 'usr_1', 'user', '[]'::jsonb, '{}', '{}',
          '{}'::jsonb, 'user.password_reset', occurred_at - interval '1 hour', received_at - interval '1 hour'
        from events where id = ${uuid(ids[0]!)}::uuid`,
      );
      await sealAndSign(testApp);
      const forgedId = `evt_${forged.replaceAll('-', '')}`;
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: 6,
        eventId: forgedId,
        reason: 'INSERTED',
        detail: expect.stringMatching(/written into the past/),
      });
      const organization = fromPublicId('org', tenant.organization.id)!;
      const latest = (await latestCheckpoints(db, [organization])).get(organization)!;
      const offline = await verifyOffline(tenant, [latest.signedNote]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(
        new RegExp(`FAILED at line 1 \\(${forgedId}, leaf 6\\): received at .* written into the past`),
      );
    });

    it('names reordered events', async () => {
      const { tenant, ids, checkpoint } = await sealedLog();
      const db = testApp.database.db;
      // Swap events 1 and 3 in stream order and in time.
      await tamper(
        db,
        sql`update events e set xid = o.xid, received_at = o.received_at
        from events o where (e.id, o.id) in ((${uuid(ids[1]!)}::uuid, ${uuid(ids[3]!)}::uuid),
          (${uuid(ids[3]!)}::uuid, ${uuid(ids[1]!)}::uuid))`,
      );
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: 1,
        eventId: ids[1],
        reason: 'REORDERED',
      });
      const offline = await verifyOffline(tenant, [checkpoint]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toContain(`(${ids[1]}, leaf 1): event is not leaf 1`);
    });

    it("names a checkpoint signed with a key other than the service's", async () => {
      const { tenant, ids } = await sealedLog();
      const db = testApp.database.db;
      await tamper(
        db,
        sql`update events set metadata = '{"n": 99}'::jsonb where id = ${uuid(ids[2]!)}::uuid`,
      );
      // The operator rewrites the log from the changed event on and signs a checkpoint with a key of their own.
      const organization = fromPublicId('org', tenant.organization.id)!;
      const origin = testApp.app.services.integrity.origin(organization);
      const forger = generateSigningKey('auditline.example');
      const stored = await eventsInStreamOrder(db, tenant.organization.id);
      const root = rootHash(stored.map(eventLeafHash));
      const note = signCheckpoint(
        { origin, treeSize: 6, rootHash: root, extra: ['time 1'] },
        forger.signerKey,
      );
      await db.execute(sql`insert into checkpoints (organization_id, tree_size, root_hash, signed_note, verifier_key)
      values (${organization}::uuid, 6, decode(${toHex(root)}, 'hex'), ${note}, ${forger.verifierKey})`);
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: null,
        reason: 'CHECKPOINT_SIGNATURE',
        detail: expect.stringMatching(/no signature from key auditline.example\+[0-9a-f]{8}/),
      });
      const offline = await verifyOffline(tenant, [note]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(/FAILED at checkpoint .*cp0\.txt: note has no signature from key/);
    });

    it('names a rewritten log whose leaf was changed to match the event', async () => {
      const { tenant, ids, checkpoint } = await sealedLog();
      const db = testApp.database.db;
      await tamper(
        db,
        sql`update events set metadata = '{"n": 99}'::jsonb where id = ${uuid(ids[2]!)}::uuid`,
      );
      // Re-hash the changed event into its leaf, as an operator covering their tracks would.
      const changed = (await eventsInStreamOrder(db, tenant.organization.id))[2]!;
      await tamper(
        db,
        sql`update merkle_leaves set leaf_hash = decode(${toHex(eventLeafHash(changed))}, 'hex')
        where event_id = ${uuid(ids[2]!)}::uuid`,
      );
      expect((await verifyServerSide(tenant)).firstMismatch).toMatchObject({
        leafIndex: 0,
        reason: 'ROOT_MISMATCH',
      });
      const offline = await verifyOffline(tenant, [checkpoint]);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(/FAILED at line \d \(evt_[0-9a-f]{32}, leaf \d\): event is not leaf/);
    });
  },
);
