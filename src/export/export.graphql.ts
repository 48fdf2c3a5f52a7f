import { EventFilterInput, readScope } from '../events/event.graphql.ts';
import { compileEventWhere } from '../events/filter.ts';
import { builder } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { EXPORTS_PATH } from './download.ts';
import { signExportGrant } from './export-link.ts';
import { EXPORT_FORMAT_DESCRIPTORS, EXPORT_FORMATS, type ExportFormat } from './formats/index.ts';

const FORMAT_DESCRIPTIONS: Record<ExportFormat, string> = {
  jsonl: 'JSON lines in Auditline’s own event shape.',
  csv: 'CSV with a header row and stable columns (RFC 4180 quoting).',
  cef: 'ArcSight Common Event Format, one event per line.',
  leef: 'IBM QRadar LEEF 2.0, one event per line.',
  ocsf: 'OCSF 1.x JSON lines (Authentication, Account Change, API Activity).',
  ecs: 'Elastic Common Schema JSON lines.',
};

export const ExportFormatEnum = builder.enumType('ExportFormat', {
  description: 'How exported events are written; see the README for a sample of each.',
  values: Object.fromEntries(
    EXPORT_FORMATS.map((format) => [
      format.toUpperCase(),
      { value: format, description: FORMAT_DESCRIPTIONS[format] },
    ]),
  ) as Record<Uppercase<ExportFormat>, { value: ExportFormat; description: string }>,
});

interface ExportLink {
  url: string;
  path: string;
  expiresAt: Date;
  format: ExportFormat;
}

const ExportLinkRef = builder.objectRef<ExportLink>('ExportLink').implement({
  description:
    'A short-lived signed download link; anyone holding it can download the export until it expires.',
  fields: (t) => ({
    url: t.exposeString('url', { description: 'GET it (gzip when the client accepts it).' }),
    path: t.exposeString('path', { description: 'The same link relative to the server.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    format: t.expose('format', { type: ExportFormatEnum }),
    mediaType: t.string({ resolve: (link) => EXPORT_FORMAT_DESCRIPTORS[link.format].mediaType }),
  }),
});

/** The server's public origin: PUBLIC_URL, or the origin the request came to. */
function publicOrigin(ctx: GraphQLContext): string {
  const configured = ctx.services.exports.publicUrl;
  if (configured) return configured.replace(/\/+$/, '');
  const request = (ctx as GraphQLContext & { request?: Request }).request;
  return request ? new URL(request.url).origin : '';
}

builder.queryField('exportEvents', (t) =>
  t.field({
    type: ExportLinkRef,
    description:
      'A download link for every event matching filter and query, oldest first, in the given format. Scope events:read; the link stops working once this key is revoked.',
    args: {
      filter: t.arg({ type: EventFilterInput }),
      query: t.arg.string({ description: 'Search syntax, as in `events`.' }),
      format: t.arg({ type: ExportFormatEnum, required: true }),
    },
    resolve: (_root, args, ctx) => {
      const organizationUuid = readScope(ctx, args.filter, 'events:read');
      compileEventWhere(organizationUuid, args.filter, args.query);
      const { exports } = ctx.services;
      const expiresAt = new Date(Date.now() + exports.linkTtlSeconds * 1000);
      const filter = args.filter ? { ...args.filter, organizationId: null } : null;
      const token = signExportGrant(exports.linkKey, {
        keyId: ctx.auth.viewer!.keyId,
        organizationUuid,
        filter,
        query: args.query ?? null,
        format: args.format,
        expiresAt,
      });
      const path = `${EXPORTS_PATH}${token}`;
      return { url: `${publicOrigin(ctx)}${path}`, path, expiresAt, format: args.format };
    },
  }),
);
