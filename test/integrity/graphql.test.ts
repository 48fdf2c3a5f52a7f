import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/integrity/bytes.ts';
import { eventLeafHash, eventPublicJson } from '../../src/integrity/event-leaf.ts';
import { verifyConsistency, verifyInclusion } from '../../src/integrity/merkle.ts';
import { verifyCheckpoint } from '../../src/integrity/signed-note.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';
import { emitEvents, eventsInStreamOrder, sealAndSign } from './support.ts';

const PROOFS = /* GraphQL */ `
  query Proofs($first: Int) {
    events(first: $first, orderBy: OCCURRED_AT_ASC) {
      edges { node { id proof { leafIndex treeSize hashes } } }
    }
  }
`;

const CHECKPOINT = /* GraphQL */ `
  query Checkpoint($organizationId: ID, $treeSize: Int) {
    integrityPublicKey
    checkpoint(organizationId: $organizationId, treeSize: $treeSize) {
      organizationId treeSize rootHash signedNote createdAt
    }
  }
`;

const STATUS = /* GraphQL */ `
  query Status($organizationId: ID) {
    integrityStatus(organizationId: $organizationId) {
      sealedThrough treeSize lagEvents lagSeconds checkpoint { treeSize }
    }
  }
`;

const VERIFY = /* GraphQL */ `
  query Verify($organizationId: ID) {
    verifyIntegrity(organizationId: $organizationId) {
      ok checkedCount purgedCount treeSize checkpointTreeSize unsealedCount
      firstMismatch { leafIndex eventId reason detail }
    }
  }
`;

interface ProofJson {
  leafIndex: number;
  treeSize: number;
  hashes: string[];
}

describe.each(backends())('integrity GraphQL on $name', (backend) => {
  let testApp: TestApp;
  let tenant: Tenant;

  beforeAll(async () => {
    testApp = await createTestApp(backend);
    tenant = await testApp.tenant();
  });

  afterAll(async () => {
    await testApp.close();
  });

  async function proofs(who: Tenant = tenant) {
    const response = await who.gql<{
      events: { edges: { node: { id: string; proof: ProofJson | null } }[] };
    }>(PROOFS, { first: 100 });
    expect(response.errors).toBeUndefined();
    return response.data!.events.edges.map((edge) => edge.node);
  }

  async function checkpoint(treeSize?: number) {
    const response = await tenant.gql(CHECKPOINT, { treeSize });
    expect(response.errors).toBeUndefined();
    return response.data as {
      integrityPublicKey: string;
      checkpoint: { organizationId: string; treeSize: number; rootHash: string; signedNote: string } | null;
    };
  }

  it('proves each event against the latest signed checkpoint, once sealed and checkpointed', async () => {
    await emitEvents(tenant, 5);
    expect((await proofs()).map((event) => event.proof)).toEqual([null, null, null, null, null]);
    expect((await checkpoint()).checkpoint).toBeNull();

    await sealAndSign(testApp);
    const { integrityPublicKey, checkpoint: latest } = await checkpoint();
    expect(latest).toMatchObject({ organizationId: tenant.organization.id, treeSize: 5 });
    const signed = verifyCheckpoint(latest!.signedNote, integrityPublicKey, {
      origin: `auditline.example/${tenant.organization.id}`,
    });
    expect(signed.treeSize).toBe(5);
    expect(signed.extra).toEqual([expect.stringMatching(/^time \d+$/)]);

    const stored = await eventsInStreamOrder(testApp.database.db, tenant.organization.id);
    const nodes = await proofs();
    expect(nodes.map((node) => node.proof?.leafIndex).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const node of nodes) {
      const event = stored.find((candidate) => candidate.id === node.id)!;
      const { leafIndex, treeSize, hashes } = node.proof!;
      expect(treeSize).toBe(5);
      expect(
        verifyInclusion(eventLeafHash(event), leafIndex, treeSize, hashes.map(fromBase64), signed.rootHash),
      ).toBe(true);
    }
    // The proof covers what the API shows: the event's public fields hash to the leaf.
    expect(eventPublicJson(stored[0]!).id).toBe(stored[0]!.id);
  });

  it('serves older checkpoints and consistency proofs between them', async () => {
    await emitEvents(tenant, 6);
    await sealAndSign(testApp);
    const old = (await checkpoint(5)).checkpoint!;
    const { integrityPublicKey, checkpoint: latest } = await checkpoint();
    expect(latest!.treeSize).toBe(11);
    const response = await tenant.gql<{
      consistencyProof: { fromSize: number; toSize: number; hashes: string[] };
    }>(/* GraphQL */ `query { consistencyProof(fromSize: 5, toSize: 11) { fromSize toSize hashes } }`);
    expect(response.errors).toBeUndefined();
    const proof = response.data!.consistencyProof;
    expect(proof).toMatchObject({ fromSize: 5, toSize: 11 });
    const from = verifyCheckpoint(old.signedNote, integrityPublicKey);
    const to = verifyCheckpoint(latest!.signedNote, integrityPublicKey);
    expect(verifyConsistency(5, 11, from.rootHash, to.rootHash, proof.hashes.map(fromBase64))).toBe(true);
    expect(verifyConsistency(5, 11, to.rootHash, to.rootHash, proof.hashes.map(fromBase64))).toBe(false);

    expect((await checkpoint(7)).checkpoint).toBeNull();
    const beyond = await tenant.gql(
      /* GraphQL */ `query { consistencyProof(fromSize: 5, toSize: 12) { hashes } }`,
    );
    expect(beyond.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/toSize 12 exceeds/),
      extensions: { code: 'BAD_USER_INPUT', path: ['toSize'] },
    });
    const backwards = await tenant.gql(
      /* GraphQL */ `query { consistencyProof(fromSize: 6, toSize: 5) { hashes } }`,
    );
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: ['toSize'] });
  });

  it('shows the sealing lag and verifies an untouched log', async () => {
    const fresh = await testApp.tenant();
    await emitEvents(fresh, 3);
    const before = await fresh.gql(STATUS);
    expect(before.data!.integrityStatus).toMatchObject({ lagEvents: 3, treeSize: 0, sealedThrough: null });
    expect(before.data!.integrityStatus.lagSeconds).toBeGreaterThanOrEqual(0);
    const unsealed = await fresh.gql(VERIFY);
    expect(unsealed.data!.verifyIntegrity).toMatchObject({ ok: true, checkedCount: 0, unsealedCount: 3 });

    await sealAndSign(testApp);
    const after = await fresh.gql(STATUS);
    expect(after.data!.integrityStatus).toMatchObject({
      lagEvents: 0,
      lagSeconds: 0,
      treeSize: 3,
      checkpoint: { treeSize: 3 },
    });
    expect(after.data!.integrityStatus.sealedThrough).toMatch(/^\d{4}-/);
    const verified = await fresh.gql(VERIFY);
    expect(verified.data!.verifyIntegrity).toEqual({
      ok: true,
      checkedCount: 3,
      purgedCount: 0,
      treeSize: 3,
      checkpointTreeSize: 3,
      unsealedCount: 0,
      firstMismatch: null,
    });
  });

  it('keeps tenants apart and requires events:read', async () => {
    const other = await testApp.tenant();
    const foreign = await other.gql(CHECKPOINT, { organizationId: tenant.organization.id });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', path: ['organizationId'] });
    const foreignVerify = await other.gql(VERIFY, { organizationId: tenant.organization.id });
    expect(foreignVerify.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const platform = await testApp.keyFor(null, ['admin', 'events:read']);
    const unnamed = await testApp.gql(CHECKPOINT, {}, platform.secret);
    expect(unnamed.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: ['organizationId'],
    });
    const named = await testApp.gql(CHECKPOINT, { organizationId: tenant.organization.id }, platform.secret);
    expect(named.data!.checkpoint.organizationId).toBe(tenant.organization.id);
    const global = await testApp.gql(STATUS, {}, platform.secret);
    expect(global.data!.integrityStatus).toMatchObject({ treeSize: null, checkpoint: null });

    const writeOnly = await testApp.keyFor(tenant.organization.id, ['events:write']);
    for (const query of [CHECKPOINT, STATUS, VERIFY]) {
      const denied = await testApp.gql(query, {}, writeOnly.secret);
      expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('loads the proofs of a page of events in a constant number of queries', async () => {
    const count = async (first: number) => {
      testApp.queries.length = 0;
      const nodes = (
        await tenant.gql<{ events: { edges: { node: { proof: ProofJson | null } }[] } }>(PROOFS, { first })
      ).data!.events.edges;
      expect(nodes.every((edge) => edge.node.proof !== null)).toBe(true);
      return testApp.queries.filter((query) => /merkle_|checkpoints/.test(query)).length;
    };
    const few = await count(2);
    expect(few).toBeGreaterThan(0);
    expect(await count(11)).toBe(few);
  });
});
