import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { findEventsPage, MAX_PAGE_SIZE } from '../events/query.ts';
import { fromPublicId } from '../ids.ts';
import { createProofReader } from '../integrity/proofs.ts';
import type { ActionRuleOverride } from './action-mapping.ts';
import { actionOverridesOf } from './action-mapping-store.ts';
import {
  EXPORT_FORMAT_DESCRIPTORS,
  type ExportFormat,
  type ExportFormatOptions,
  formatEvent,
} from './formats/index.ts';

export interface ExportProgress {
  /** Events written so far. */
  onPage?(exported: number): void;
  /** `actionOverrides`, when given, replaces the organizations' own (see `exportChunks`). */
  formatOptions?: ExportFormatOptions;
  pageSize?: number;
}

/**
 * The export as text chunks, one keyset page (oldest first) per chunk. Nothing is read ahead: the
 * next page is queried only when the consumer pulls, so memory stays one page deep however large
 * the result. Each event is formatted with its organization's action mapping overrides, read once
 * per organization per export.
 */
export async function* exportChunks(
  db: Database,
  where: SQL | undefined,
  format: ExportFormat,
  options: ExportProgress = {},
): AsyncGenerator<string> {
  const { header, recordSeparator } = EXPORT_FORMAT_DESCRIPTORS[format];
  // JSON lines carry each event's inclusion proof (null until sealed and checkpointed), all against the
  // checkpoint that was latest when the export reached the organization, so one checkpoint verifies it.
  const proofs = format === 'jsonl' ? createProofReader(db) : null;
  if (header !== null) yield header + recordSeparator;
  // JSON lines and CSV carry the action as is; the other formats classify it.
  const classifies = format !== 'jsonl' && format !== 'csv';
  const overrides =
    classifies && !options.formatOptions?.actionOverrides ? new ActionOverridesCache(db) : null;
  let after: string | null = null;
  let exported = 0;
  for (;;) {
    const page = await findEventsPage(db, where, 'OCCURRED_AT_ASC', {
      first: options.pageSize ?? MAX_PAGE_SIZE,
      after,
    });
    if (page.edges.length === 0) return;
    let chunk = '';
    const pageProofs = proofs ? await proofs.forEvents(page.edges.map((edge) => edge.node.id)) : null;
    await overrides?.load(page.edges.map((edge) => edge.node.organizationId));
    for (const [i, edge] of page.edges.entries()) {
      let formatOptions = options.formatOptions ?? {};
      if (overrides)
        formatOptions = { ...formatOptions, actionOverrides: overrides.of(edge.node.organizationId) };
      if (pageProofs)
        formatOptions = { ...formatOptions, extra: { ...formatOptions.extra, proof: pageProofs[i] } };
      chunk += formatEvent(format, edge.node, formatOptions) + recordSeparator;
    }
    exported += page.edges.length;
    yield chunk;
    options.onPage?.(exported);
    if (!page.pageInfo.hasNextPage) return;
    after = page.pageInfo.endCursor;
  }
}

/** Streams the export into `sink` (through any transforms), honouring its backpressure; resolves with the count. */
export async function writeExport(
  db: Database,
  where: SQL | undefined,
  format: ExportFormat,
  sink: Writable,
  options: ExportProgress & { transforms?: NodeJS.ReadWriteStream[] } = {},
): Promise<number> {
  let count = 0;
  const source = Readable.from(
    exportChunks(db, where, format, {
      ...options,
      onPage: (exported) => {
        count = exported;
        options.onPage?.(exported);
      },
    }),
    { objectMode: false, highWaterMark: 1 },
  );
  await pipeline([source, ...(options.transforms ?? []), sink]);
  return count;
}

/** Organizations' override rules by public id, each read the first time one of its events comes up. */
class ActionOverridesCache {
  private readonly rules = new Map<string, ActionRuleOverride[]>();

  constructor(private readonly db: Database) {}

  async load(organizationIds: readonly string[]): Promise<void> {
    const missing = [...new Set(organizationIds)].filter((id) => !this.rules.has(id));
    if (missing.length === 0) return;
    const loaded = await actionOverridesOf(
      this.db,
      missing.map((id) => fromPublicId('org', id)!),
    );
    for (const [index, id] of missing.entries()) this.rules.set(id, loaded[index]!);
  }

  of(organizationId: string): readonly ActionRuleOverride[] {
    return this.rules.get(organizationId) ?? [];
  }
}
