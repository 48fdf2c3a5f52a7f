import type { Database } from '../../db/client.ts';
import { AuditlineError } from '../../errors.ts';
import { fromPublicId } from '../../ids.ts';
import { toBase64 } from '../../integrity/bytes.ts';
import { checkpointOfSize, latestCheckpoints, type StoredCheckpoint } from '../../integrity/log-store.ts';
import { findOrganization, type Organization } from '../../tenancy/organizations.ts';
import type { Command } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { writeJson } from '../output.ts';
import { UsageError } from '../usage-error.ts';

export const checkpointCommand: Command = {
  name: 'checkpoint',
  summary: "Print an organization's latest signed checkpoint",
  usage: `Usage:
  auditline checkpoint --org ORG [--size N] [--json]

Prints the organization's latest checkpoint exactly as signed (a C2SP signed note), ready for
"auditline checkpoint --org ORG > cp.txt" and "auditline verify --checkpoint cp.txt". Keep copies
outside the database: a later export that does not extend them exposes a rewritten history.

Options:
  --org ORG    the organization, by id (org_…) or by name
  --size N     the checkpoint of this tree size instead of the latest (the size an export's proofs name)
  --json       print {"organizationId","treeSize","rootHash","signedNote","createdAt"}`,

  async run(args, io, ctx) {
    const { flags, positionals } = parseFlags(args, { org: { type: 'string' }, size: { type: 'string' } });
    takePositionals(positionals, []);
    if (flags.org === undefined) throw new UsageError('missing --org ORG');
    const size = flags.size === undefined ? null : treeSizeFlag('--size', flags.size);
    const { db } = await ctx.database();
    const organization = await resolveOrganization(db, flags.org);
    const uuid = fromPublicId('org', organization.id)!;
    const checkpoint =
      size === null
        ? ((await latestCheckpoints(db, [uuid])).get(uuid) ?? null)
        : await checkpointOfSize(db, uuid, size);
    if (!checkpoint) {
      throw new AuditlineError(
        'NOT_FOUND',
        size === null
          ? `organization ${organization.name} has no checkpoint yet: the server signs one every CHECKPOINT_INTERVAL once it has events ("auditline seal" does it now)`
          : `organization ${organization.name} has no checkpoint of tree size ${size}`,
      );
    }
    if (flags.json) writeJson(io, checkpointJson(organization, checkpoint));
    else io.stdout.write(checkpoint.signedNote);
  },
};

const checkpointJson = (organization: Organization, checkpoint: StoredCheckpoint) => ({
  organizationId: organization.id,
  treeSize: checkpoint.treeSize,
  rootHash: toBase64(checkpoint.rootHash),
  signedNote: checkpoint.signedNote,
  createdAt: checkpoint.createdAt.toISOString(),
});

export function treeSizeFlag(flag: string, value: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a non-negative integer (got "${value}")`);
  }
  return Number(value);
}

export async function resolveOrganization(db: Database, idOrName: string): Promise<Organization> {
  const organization = await findOrganization(db, idOrName);
  if (!organization) throw new AuditlineError('NOT_FOUND', `no organization "${idOrName}"`);
  return organization;
}
