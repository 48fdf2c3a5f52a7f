import DataLoader from 'dataloader';
import { badInput } from '../errors.ts';
import { EventRef } from '../events/event.graphql.ts';
import { builder } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { fromPublicId, toPublicId } from '../ids.ts';
import { organizationFor, requireScope } from '../tenancy/viewer.ts';
import { toBase64 } from './bytes.ts';
import { checkpointOfSize, latestCheckpoints, type StoredCheckpoint } from './log-store.ts';
import type { ExportedConsistencyProof, ExportedProof } from './offline-verify.ts';
import { consistencyProofFor, proofsForEvents } from './proofs.ts';
import { type IntegrityStatus, integrityStatus } from './status.ts';
import {
  type IntegrityMismatch,
  type IntegrityReport,
  type MismatchReason,
  verifyIntegrity,
} from './verify-integrity.ts';

const proofLoaders = new WeakMap<GraphQLContext, DataLoader<string, ExportedProof | null>>();

function proofLoader(ctx: GraphQLContext): DataLoader<string, ExportedProof | null> {
  let loader = proofLoaders.get(ctx);
  if (!loader) {
    // Batched, not cached: a subscription's context lives as long as the stream, and proofs move on
    // (null until sealed, then against ever newer checkpoints).
    loader = new DataLoader((eventIds) => proofsForEvents(ctx.services.database.db, eventIds), {
      cache: false,
    });
    proofLoaders.set(ctx, loader);
  }
  return loader;
}

/** The organization uuid a call acts on (an organization key: always its own). */
function organizationArgument(ctx: GraphQLContext, requested: string | null | undefined, required: boolean) {
  const viewer = requireScope(ctx.auth, 'events:read');
  const organizationId = organizationFor(viewer, requested, ['organizationId'], required);
  if (organizationId === null) return null;
  const uuid = fromPublicId('org', organizationId);
  if (!uuid)
    throw badInput(`organizationId "${organizationId}" is not an organization id`, ['organizationId']);
  return uuid;
}

const EventProofRef = builder.objectRef<ExportedProof>('EventProof').implement({
  description:
    'RFC 9162 inclusion proof of an event in its organization’s Merkle log, against the checkpoint of size `treeSize`.',
  fields: (t) => ({
    leafIndex: t.exposeInt('leafIndex'),
    treeSize: t.exposeInt('treeSize', { description: 'Size of the checkpoint the proof is for.' }),
    hashes: t.exposeStringList('hashes', {
      description:
        'The audit path, leaf side first, base64. Leaf = SHA-256(0x00 ‖ RFC 8785 JSON of the event).',
    }),
  }),
});

builder.objectField(EventRef, 'proof', (t) =>
  t.field({
    type: EventProofRef,
    nullable: true,
    description:
      'Inclusion proof against the organization’s latest checkpoint; null until the event is sealed and a checkpoint covers it.',
    resolve: (event, _args, ctx) => proofLoader(ctx).load(event.id),
  }),
);

const CheckpointRef = builder.objectRef<StoredCheckpoint>('Checkpoint').implement({
  description: 'A signed tree head of an organization’s log, as a C2SP signed note (Ed25519).',
  fields: (t) => ({
    organizationId: t.id({ resolve: (checkpoint) => toPublicId('org', checkpoint.organizationId) }),
    treeSize: t.exposeInt('treeSize'),
    rootHash: t.string({ description: 'Base64.', resolve: (checkpoint) => toBase64(checkpoint.rootHash) }),
    signedNote: t.exposeString('signedNote', {
      description: 'Origin, tree size, root and time lines, a blank line, then the signature line.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ConsistencyProofRef = builder.objectRef<ExportedConsistencyProof>('ConsistencyProof').implement({
  description: 'RFC 9162 consistency proof: the log of size `toSize` extends the one of size `fromSize`.',
  fields: (t) => ({
    fromSize: t.exposeInt('fromSize'),
    toSize: t.exposeInt('toSize'),
    hashes: t.exposeStringList('hashes', { description: 'Base64.' }),
  }),
});

const MismatchReasonEnum = builder.enumType('IntegrityMismatchReason', {
  values: {
    CHANGED: { description: 'A stored event no longer hashes to its leaf.' },
    DELETED: { description: 'A sealed event is gone, and no retention purge explains it.' },
    INSERTED: {
      description:
        'An event the log never sealed sits among sealed ones, or one was stored with a backdated receivedAt.',
    },
    REORDERED: { description: 'An event’s place in stream order is not the one it was sealed at.' },
    ROOT_MISMATCH: {
      description: 'The stored leaf hashes do not give a signed root: the log was rewritten.',
    },
    CHECKPOINT_SIGNATURE: { description: 'The latest checkpoint does not verify with the public key.' },
  } satisfies Record<MismatchReason, unknown>,
});

const IntegrityMismatchRef = builder.objectRef<IntegrityMismatch>('IntegrityMismatch').implement({
  fields: (t) => ({
    leafIndex: t.exposeInt('leafIndex', { nullable: true }),
    eventId: t.exposeID('eventId', { nullable: true }),
    reason: t.expose('reason', { type: MismatchReasonEnum }),
    detail: t.exposeString('detail'),
  }),
});

const IntegrityReportRef = builder.objectRef<IntegrityReport>('IntegrityReport').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checkedCount: t.exposeInt('checkedCount', {
      description: 'Leaves checked before the first mismatch (all of them when ok).',
    }),
    purgedCount: t.exposeInt('purgedCount', {
      description:
        'Leaves whose events retention purged: their hashes stay in the log, so proofs still verify.',
    }),
    treeSize: t.exposeInt('treeSize'),
    checkpointTreeSize: t.exposeInt('checkpointTreeSize', { nullable: true }),
    unsealedCount: t.exposeInt('unsealedCount', { description: 'Events stored but not sealed yet.' }),
    firstMismatch: t.expose('firstMismatch', { type: IntegrityMismatchRef, nullable: true }),
  }),
});

const IntegrityStatusRef = builder.objectRef<IntegrityStatus>('IntegrityStatus').implement({
  description: 'How far sealing trails ingest.',
  fields: (t) => ({
    sealedThrough: t.expose('sealedThrough', {
      type: 'DateTime',
      nullable: true,
      description: 'receivedAt of the newest sealed event.',
    }),
    treeSize: t.exposeInt('treeSize', { nullable: true, description: 'Null for the whole database.' }),
    checkpoint: t.expose('checkpoint', { type: CheckpointRef, nullable: true }),
    lagEvents: t.exposeInt('lagEvents', { description: 'Stored events not sealed yet.' }),
    lagSeconds: t.exposeFloat('lagSeconds', { description: 'Age of the oldest event not sealed yet.' }),
  }),
});

builder.queryField('integrityPublicKey', (t) =>
  t.string({
    description: 'The key checkpoints are signed with, as a C2SP verifier key (`auditline public-key`).',
    resolve: async (_root, _args, ctx) => {
      requireScope(ctx.auth, 'events:read');
      return (await ctx.services.integrity.identity()).verifierKey;
    },
  }),
);

builder.queryField('checkpoint', (t) =>
  t.field({
    type: CheckpointRef,
    nullable: true,
    description:
      'The organization’s latest checkpoint, or the one of `treeSize`; null when none was signed. Scope events:read.',
    args: {
      organizationId: t.arg.id({ description: 'Platform keys only; an organization key reads its own.' }),
      treeSize: t.arg.int(),
    },
    resolve: async (_root, args, ctx) => {
      const organization = organizationArgument(ctx, args.organizationId, true)!;
      const db = ctx.services.database.db;
      if (args.treeSize !== null && args.treeSize !== undefined) {
        return checkpointOfSize(db, organization, args.treeSize);
      }
      return (await latestCheckpoints(db, [organization])).get(organization) ?? null;
    },
  }),
);

builder.queryField('consistencyProof', (t) =>
  t.field({
    type: ConsistencyProofRef,
    description: 'Proves that the log at `toSize` extends the log at `fromSize`. Scope events:read.',
    args: {
      organizationId: t.arg.id({ description: 'Platform keys only; an organization key reads its own.' }),
      fromSize: t.arg.int({ required: true }),
      toSize: t.arg.int({ required: true }),
    },
    resolve: (_root, args, ctx) => {
      const organization = organizationArgument(ctx, args.organizationId, true)!;
      return consistencyProofFor(ctx.services.database.db, organization, args.fromSize, args.toSize);
    },
  }),
);

builder.queryField('verifyIntegrity', (t) =>
  t.field({
    type: IntegrityReportRef,
    description:
      'Re-hashes the organization’s stored events against its log and the log against its signed checkpoints; names the first mismatch. Reads every event: run it occasionally, not per request; once per request, and one at a time per organization (BUSY otherwise). Scope events:read.',
    args: {
      organizationId: t.arg.id({ description: 'Platform keys only; an organization key checks its own.' }),
    },
    resolve: async (_root, args, ctx) => {
      const organization = organizationArgument(ctx, args.organizationId, true)!;
      const { integrity, database, retention } = ctx.services;
      return integrity.verifications.run(organization, async () =>
        verifyIntegrity(database.db, organization, {
          verifierKey: (await integrity.identity()).verifierKey,
          origin: integrity.origin(organization),
          defaultRetentionDays: retention.defaultDays,
        }),
      );
    },
  }),
);

builder.queryField('integrityStatus', (t) =>
  t.field({
    type: IntegrityStatusRef,
    description:
      'Sealing lag: for the organization, or for a platform key naming none, the whole database. Scope events:read.',
    args: {
      organizationId: t.arg.id({ description: 'Platform keys only; an organization key reads its own.' }),
    },
    resolve: (_root, args, ctx) =>
      integrityStatus(ctx.services.database.db, organizationArgument(ctx, args.organizationId, false)),
  }),
);
