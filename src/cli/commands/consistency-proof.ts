import { AuditlineError } from '../../errors.ts';
import { fromPublicId } from '../../ids.ts';
import { latestCheckpoints } from '../../integrity/log-store.ts';
import { consistencyProofFor } from '../../integrity/proofs.ts';
import type { Command } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { writeJson } from '../output.ts';
import { UsageError } from '../usage-error.ts';
import { resolveOrganization, treeSizeFlag } from './checkpoint.ts';

export const consistencyProofCommand: Command = {
  name: 'consistency-proof',
  summary: "Print a proof that an organization's log only grew between two sizes",
  usage: `Usage:
  auditline consistency-proof --org ORG --from N [--to M]

Prints {"fromSize","toSize","hashes"} as JSON: the RFC 9162 consistency proof that the log of size M
(default: the latest checkpoint's size) extends the log of size N, e.g. the size of a checkpoint you
saved earlier. Give it to "auditline verify --consistency FILE" together with both checkpoints.

Options:
  --org ORG   the organization, by id (org_…) or by name
  --from N    the older tree size
  --to M      the newer tree size (default: the latest checkpoint's)`,

  async run(args, io, ctx) {
    const { flags, positionals } = parseFlags(args, {
      org: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    });
    takePositionals(positionals, []);
    if (flags.org === undefined) throw new UsageError('missing --org ORG');
    if (flags.from === undefined) throw new UsageError('missing --from N');
    const fromSize = treeSizeFlag('--from', flags.from);
    const { db } = await ctx.database();
    const organization = await resolveOrganization(db, flags.org);
    const uuid = fromPublicId('org', organization.id)!;
    let toSize: number;
    if (flags.to !== undefined) {
      toSize = treeSizeFlag('--to', flags.to);
    } else {
      const latest = (await latestCheckpoints(db, [uuid])).get(uuid);
      if (!latest)
        throw new AuditlineError('NOT_FOUND', `organization ${organization.name} has no checkpoint yet`);
      toSize = latest.treeSize;
    }
    try {
      writeJson(io, await consistencyProofFor(db, uuid, fromSize, toSize));
    } catch (error) {
      if (error instanceof AuditlineError && error.code === 'BAD_USER_INPUT') {
        throw new UsageError(
          error.message.replace(/^(fromSize|toSize)/, (name) => (name === 'fromSize' ? '--from' : '--to')),
        );
      }
      throw error;
    }
  },
};
