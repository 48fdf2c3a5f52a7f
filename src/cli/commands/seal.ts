import { signCheckpoints } from '../../integrity/checkpointer.ts';
import { sealPending } from '../../integrity/sealer.ts';
import { GENERATED_KEY_WARNING, loadSigningKey } from '../../integrity/signing-key.ts';
import type { Command } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { writeJson, writeLines } from '../output.ts';

export const sealCommand: Command = {
  name: 'seal',
  summary: 'Seal pending events now and sign checkpoints',
  usage: `Usage:
  auditline seal [--no-checkpoint] [--json]

Does at once what the server's sealer does continuously: appends every settled event not sealed yet
to its organization's Merkle log, then signs a checkpoint for each log that grew. Safe while a
server runs on the same PostgreSQL database (sealers take turns).

Options:
  --no-checkpoint   seal only
  --json            print {"sealed","organizations","batches","ms","checkpointsSigned"}`,

  async run(args, io, ctx) {
    const { flags, positionals } = parseFlags(args, { 'no-checkpoint': { type: 'boolean' } });
    takePositionals(positionals, []);
    const { db, config } = await ctx.database();
    const result = await sealPending(db);
    let checkpointsSigned = 0;
    if (!flags['no-checkpoint']) {
      const identity = await loadSigningKey(db, config.integrity.signingKey, config.integrity.originPrefix);
      if (identity.generated) io.stderr.write(`warning: ${GENERATED_KEY_WARNING}\n`);
      ({ signed: checkpointsSigned } = await signCheckpoints(db, {
        originPrefix: config.integrity.originPrefix,
        identity,
      }));
    }
    const { sealed, organizations, batches, ms } = result;
    if (flags.json) {
      writeJson(io, { sealed, organizations, batches, ms, checkpointsSigned });
      return;
    }
    writeLines(
      io,
      `Sealed ${sealed} event${sealed === 1 ? '' : 's'} into ${organizations} organization log${organizations === 1 ? '' : 's'} in ${ms} ms`,
      ...(flags['no-checkpoint']
        ? []
        : [`Signed ${checkpointsSigned} checkpoint${checkpointsSigned === 1 ? '' : 's'}`]),
    );
  },
};
