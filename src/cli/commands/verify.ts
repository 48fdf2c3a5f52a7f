import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyExport } from '../../integrity/verify-export.ts';
import type { Command } from '../command.ts';
import { writeJson, writeLines } from '../output.ts';
import { UsageError } from '../usage-error.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Check an export against signed checkpoints, offline',
  usage: `Usage:
  auditline verify --events FILE --checkpoint FILE [--checkpoint FILE …] --public-key FILE
                   [--consistency FILE …] [--partial] [--allow-unproven] [--json]

Checks, without the service or its database: every checkpoint's Ed25519 signature, that successive
checkpoints are linked by consistency proofs, every exported event's inclusion proof (the event's
RFC 8785 JSON hashed as an RFC 6962 leaf), and that the export holds every leaf up to the tree size
its proofs refer to, except leaves whose absence the retention purges it records explain. Exits 0
when everything verifies; otherwise exits 1 naming the first bad event, checkpoint or missing leaf.

Options:
  --events FILE        a JSON-lines export (auditline export --format jsonl), each record with its proof
  --checkpoint FILE    a signed checkpoint (auditline checkpoint --org ORG > cp.txt); repeat for several
  --public-key FILE    the verifier key (auditline public-key > key.txt)
  --consistency FILE   consistency proofs (auditline consistency-proof): a JSON object, an array, or JSON lines
  --partial            the export is filtered (by action, time, …): do not require every leaf
  --allow-unproven     skip events exported before a checkpoint covered them instead of failing
  --json               print the result as JSON`,

  async run(args, io) {
    const flags = parseVerifyFlags(args);
    const [lines, checkpoints, verifierKey, consistencyProofs] = await Promise.all([
      readText('--events', flags.events).then((text) => text.split('\n')),
      Promise.all(
        flags.checkpoints.map(async (file) => ({ name: file, note: await readText('--checkpoint', file) })),
      ),
      readText('--public-key', flags.publicKey).then((text) => text.trim()),
      Promise.all(
        flags.consistency.map((file) => readText('--consistency', file).then(parseJsonDocuments(file))),
      ),
    ]);
    const result = verifyExport({
      lines,
      checkpoints,
      verifierKey,
      consistencyProofs: consistencyProofs.flat(),
      partial: flags.partial,
      allowUnproven: flags.allowUnproven,
    });
    if (flags.json) writeJson(io, result);
    if (!result.ok) {
      throw new Error(`verification FAILED at ${result.failure!.subject}: ${result.failure!.reason}`);
    }
    if (flags.json) return;
    const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;
    writeLines(
      io,
      `OK: ${plural(result.eventsVerified, 'event')} verified against ${plural(result.checkpointsVerified, 'checkpoint')} ` +
        `(tree size ${result.treeSizes.join(', ')}) and ${plural(result.consistencyProofsVerified, 'consistency proof')}`,
      `log: ${result.origin}`,
      ...(result.purgedLeaves > 0
        ? [
            `${plural(result.purgedLeaves, 'leaf', 'leaves')} absent from the export, consistent with the retention purges it records`,
          ]
        : []),
      ...(result.unprovenSkipped > 0
        ? [`${plural(result.unprovenSkipped, 'event')} without a proof skipped (--allow-unproven)`]
        : []),
    );
  },
};

interface VerifyFlags {
  events: string;
  checkpoints: string[];
  publicKey: string;
  consistency: string[];
  partial: boolean;
  allowUnproven: boolean;
  json: boolean;
}

function parseVerifyFlags(args: string[]): VerifyFlags {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        events: { type: 'string' },
        checkpoint: { type: 'string', multiple: true },
        'public-key': { type: 'string' },
        consistency: { type: 'string', multiple: true },
        partial: { type: 'boolean' },
        'allow-unproven': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
  const missing = ['events', 'checkpoint', 'public-key'].filter((name) => values[name] === undefined);
  if (missing.length > 0)
    throw new UsageError(`missing ${missing.map((name) => `--${name} FILE`).join(', ')}`);
  return {
    events: values.events as string,
    checkpoints: values.checkpoint as string[],
    publicKey: values['public-key'] as string,
    consistency: (values.consistency as string[] | undefined) ?? [],
    partial: values.partial === true,
    allowUnproven: values['allow-unproven'] === true,
    json: values.json === true,
  };
}

async function readText(flag: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** One JSON document (an object or an array of them), or JSON lines. */
function parseJsonDocuments(file: string) {
  return (text: string): unknown[] => {
    try {
      const document = JSON.parse(text);
      return Array.isArray(document) ? document : [document];
    } catch {
      try {
        return text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line));
      } catch {
        throw new UsageError(`--consistency ${file}: not JSON or JSON lines`);
      }
    }
  };
}
