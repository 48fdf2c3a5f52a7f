import { readFileSync } from 'node:fs';
import type { Database } from '../../db/client.ts';
import { AuditlineError } from '../../errors.ts';
import { addDestination, destinationJson } from '../../export/destination-admin.ts';
import {
  type Destination,
  destinationLag,
  findDestination,
  listDestinations,
  removeDestination,
  setDestinationStatus,
} from '../../export/destination-store.ts';
import { testDestination } from '../../export/destination-test.ts';
import { DESTINATION_TYPES, isDestinationType } from '../../export/destinations/index.ts';
import { EXPORT_FORMATS, isExportFormat } from '../../export/formats/index.ts';
import { createExportService } from '../../export/service.ts';
import { fromPublicId } from '../../ids.ts';
import { findOrganization } from '../../tenancy/organizations.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTable, formatTime, writeJson, writeLines } from '../output.ts';
import { runSubcommand } from '../subcommands.ts';
import { UsageError } from '../usage-error.ts';

export const destinationsCommand: Command = {
  name: 'destinations',
  summary: 'Continuous log streams to SIEMs and buckets: add, list, pause, resume, remove, test',
  usage: `Usage:
  auditline destinations add NAME --org ORG --type TYPE --url URL --format FORMAT
                             [--secret S] [--query Q] [--actions A,B] [--ca FILE]
                             [--option KEY=VALUE]... [--from-beginning] [--json]
  auditline destinations list --org ORG [--json]
  auditline destinations pause|resume|remove ID [--json]
  auditline destinations test ID [--json]

Options:
  --type TYPE        ${DESTINATION_TYPES.join(', ')}
  --url URL          https://… for HTTP receivers; tcp://host:port, tls://host:port or
                     relp://host:port (acknowledged) for syslog; https://endpoint/bucket[/prefix]
                     for S3 (path style)
  --format FORMAT    ${EXPORT_FORMATS.join(', ')} (syslog: cef or leef)
  --secret S         write-only: webhook whsec_…, Splunk HEC token, S3 ACCESS_KEY_ID:SECRET_ACCESS_KEY,
                     Sentinel client secret, Datadog API key
  --query Q          only events matching this search syntax
  --actions A,B      only these actions (prefixes end in *)
  --ca FILE          PEM CA to trust for tls:// syslog
  --option KEY=VALUE transport settings: splunk-hec index, source, sourcetype, host, ack=true;
                     s3 region; sentinel tokenUrl, clientId, scope; datadog service, source, tags,
                     hostname; syslog hostname, appName
  --from-beginning   also send the events already stored (default: from now on)

Secrets are never printed. "test" sends one sample event and exits 1 if the receiver refused it.`,

  run: (args, io, ctx) =>
    runSubcommand(
      'destinations',
      {
        add,
        list,
        pause: (rest, io2, ctx2) => setStatus('PAUSED', rest, io2, ctx2),
        resume: (rest, io2, ctx2) => setStatus('ACTIVE', rest, io2, ctx2),
        remove,
        test,
      },
      args,
      io,
      ctx,
    ),
};

/** `--option` may repeat, which the shared flag parser does not do: take those out first. */
function takeOptions(args: string[]): { rest: string[]; options: Record<string, string> } {
  const rest: string[] = [];
  const options: Record<string, string> = {};
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    let value: string | undefined;
    if (arg === '--option') value = args[++index];
    else if (arg.startsWith('--option=')) value = arg.slice('--option='.length);
    else {
      rest.push(arg);
      continue;
    }
    const equals = value?.indexOf('=') ?? -1;
    if (!value || equals < 1) throw new UsageError('--option needs KEY=VALUE');
    options[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return { rest, options };
}

async function add(args: string[], io: CliIo, ctx: CommandContext) {
  const { rest, options } = takeOptions(args);
  const { flags, positionals } = parseFlags(rest, {
    org: { type: 'string' },
    type: { type: 'string' },
    url: { type: 'string' },
    format: { type: 'string' },
    secret: { type: 'string' },
    query: { type: 'string' },
    actions: { type: 'string' },
    ca: { type: 'string' },
    'from-beginning': { type: 'boolean' },
  });
  const [name] = takePositionals(positionals, ['NAME']);
  for (const required of ['org', 'type', 'url', 'format'] as const) {
    if (flags[required] === undefined) throw new UsageError(`missing --${required}`);
  }
  const type = flags.type!.toLowerCase();
  if (!isDestinationType(type)) throw new UsageError(`--type must be one of ${DESTINATION_TYPES.join(', ')}`);
  const format = flags.format!.toLowerCase();
  if (!isExportFormat(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (flags.ca !== undefined) options.caCertificate = readFileSync(flags.ca, 'utf8');
  const { db, config } = await ctx.database();
  const organization = await organizationUuid(db, flags.org!);
  const { secrets, connector } = createExportService(config);
  const destination = await asUsage(() =>
    addDestination(
      db,
      secrets,
      {
        organizationUuid: organization,
        name: name!,
        type,
        url: flags.url!,
        format,
        actions: flags.actions
          ?.split(',')
          .map((action) => action.trim())
          .filter(Boolean),
        query: flags.query,
        secret: flags.secret,
        options,
        fromBeginning: flags['from-beginning'] ?? false,
      },
      connector,
    ),
  );
  if (flags.json) writeJson(io, destinationJson(destination, { events: 0, seconds: 0 }));
  else
    writeLines(
      io,
      `Added destination ${destination.id} "${destination.name}" (${destination.type}, ${destination.format})`,
    );
}

async function list(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, { org: { type: 'string' } });
  takePositionals(positionals, []);
  if (flags.org === undefined) throw new UsageError('missing --org ORG');
  const { db } = await ctx.database();
  const destinations = await listDestinations(db, await organizationUuid(db, flags.org));
  const described = await Promise.all(
    destinations.map(async (destination) =>
      destinationJson(destination, await destinationLag(db, destination)),
    ),
  );
  if (flags.json) return writeJson(io, described);
  if (described.length === 0) return writeLines(io, `No destinations for ${flags.org}`);
  writeLines(
    io,
    formatTable(
      ['ID', 'NAME', 'TYPE', 'FORMAT', 'STATUS', 'LAG', 'DELIVERED', 'LAST SUCCESS', 'LAST ERROR'],
      described.map((d) => [
        d.id,
        d.name,
        d.type,
        d.format,
        d.status,
        String(d.lagEvents),
        String(d.deliveredCount),
        formatTime(d.lastSuccessAt ? new Date(d.lastSuccessAt) : null, 'never'),
        d.lastError ?? '-',
      ]),
    ),
  );
}

async function setStatus(status: 'ACTIVE' | 'PAUSED', args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [id] = takePositionals(positionals, ['ID']);
  const { db } = await ctx.database();
  const destination = await setDestinationStatus(db, (await destinationById(db, id!)).uuid, status);
  if (flags.json) writeJson(io, destinationJson(destination!, await destinationLag(db, destination!)));
  else
    writeLines(io, `${status === 'PAUSED' ? 'Paused' : 'Resumed'} destination ${id} "${destination!.name}"`);
}

async function remove(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [id] = takePositionals(positionals, ['ID']);
  const { db } = await ctx.database();
  const destination = await destinationById(db, id!);
  await removeDestination(db, destination.uuid);
  if (flags.json) writeJson(io, { id: destination.id, removed: true });
  else writeLines(io, `Removed destination ${destination.id} "${destination.name}"`);
}

async function test(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [id] = takePositionals(positionals, ['ID']);
  const { db, config } = await ctx.database();
  const destination = await destinationById(db, id!);
  const result = await testDestination(db, destination, createExportService(config));
  if (flags.json) writeJson(io, result);
  else if (result.ok)
    writeLines(io, `Sent sample event ${result.eventId} to "${destination.name}" in ${result.durationMs} ms`);
  if (!result.ok) throw new Error(`the receiver did not take the sample event: ${result.error}`);
}

async function organizationUuid(db: Database, idOrName: string): Promise<string> {
  const organization = await findOrganization(db, idOrName);
  if (!organization) throw new AuditlineError('NOT_FOUND', `no organization "${idOrName}"`);
  return fromPublicId('org', organization.id)!;
}

async function destinationById(db: Database, id: string): Promise<Destination> {
  const uuid = fromPublicId('dst', id);
  const destination = uuid ? await findDestination(db, uuid) : null;
  if (!destination) throw new AuditlineError('NOT_FOUND', `no destination "${id}"`);
  return destination;
}

/** Bad settings are the user's to fix: exit 2 with the message, like any other bad argument. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AuditlineError && error.code === 'BAD_USER_INPUT') {
      const field = error.inputPath.at(-1);
      throw new UsageError(
        field && !error.message.includes(field) ? `${field}: ${error.message}` : error.message,
      );
    }
    throw error;
  }
}
