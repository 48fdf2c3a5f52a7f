import { loadConfig } from '../../config.ts';
import { generateSigningKey, SignedNoteError } from '../../integrity/signed-note.ts';
import type { Command } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { writeJson, writeLines } from '../output.ts';
import { UsageError } from '../usage-error.ts';

export const signingKeyCommand: Command = {
  name: 'signing-key',
  summary: 'Generate a new Ed25519 checkpoint signing key',
  usage: `Usage:
  auditline signing-key [--name NAME] [--json]

Generates a key pair and prints SIGNING_KEY=… (secret: put it in the server's environment, keep it
out of the database and out of version control) and the matching public key for auditors. Touches
no database.

Options:
  --name NAME   the key name (default: CHECKPOINT_ORIGIN, e.g. auditline.example)
  --json        print {"signingKey", "verifierKey"}`,

  async run(args, io) {
    const { flags, positionals } = parseFlags(args, { name: { type: 'string' } });
    takePositionals(positionals, []);
    const name = flags.name ?? loadConfig(io.env).integrity.originPrefix;
    let keys: { signerKey: string; verifierKey: string };
    try {
      keys = generateSigningKey(name);
    } catch (error) {
      if (error instanceof SignedNoteError) throw new UsageError(`--name: ${error.message}`);
      throw error;
    }
    if (flags.json) {
      writeJson(io, { signingKey: keys.signerKey, verifierKey: keys.verifierKey });
      return;
    }
    writeLines(io, `SIGNING_KEY=${keys.signerKey}`, `# public key for auditors: ${keys.verifierKey}`);
  },
};
