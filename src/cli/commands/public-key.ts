import { loadConfig } from '../../config.ts';
import { configuredIdentity, GENERATED_KEY_WARNING, loadSigningKey } from '../../integrity/signing-key.ts';
import type { Command } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { writeJson, writeLines } from '../output.ts';

export const publicKeyCommand: Command = {
  name: 'public-key',
  summary: 'Print the key that verifies checkpoints',
  usage: `Usage:
  auditline public-key [--json]

Prints the C2SP verifier key (<name>+<key id>+<base64 key>) that checkpoints are signed with; give
it to auditors for "auditline verify --public-key FILE". It comes from SIGNING_KEY, or, when that is
not set, from the key generated on first start and stored in the database (created now if needed).

Options:
  --json   print {"verifierKey", "generated"}`,

  async run(args, io, ctx) {
    const { flags, positionals } = parseFlags(args, {});
    takePositionals(positionals, []);
    const config = loadConfig(io.env);
    const { signingKey, originPrefix } = config.integrity;
    // A configured key needs no database.
    const identity = signingKey
      ? configuredIdentity(signingKey)
      : await loadSigningKey((await ctx.database()).db, null, originPrefix);
    if (identity.generated) io.stderr.write(`warning: ${GENERATED_KEY_WARNING}\n`);
    if (flags.json) writeJson(io, { verifierKey: identity.verifierKey, generated: identity.generated });
    else writeLines(io, identity.verifierKey);
  },
};
