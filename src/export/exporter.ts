import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { findEventsPage, MAX_PAGE_SIZE } from '../events/query.ts';
import {
  EXPORT_FORMAT_DESCRIPTORS,
  type ExportFormat,
  type ExportFormatOptions,
  formatEvent,
} from './formats/index.ts';

export interface ExportProgress {
  /** Events written so far. */
  onPage?(exported: number): void;
  formatOptions?: ExportFormatOptions;
  pageSize?: number;
}

/**
 * The export as text chunks, one keyset page (oldest first) per chunk. Nothing is read ahead: the
 * next page is queried only when the consumer pulls, so memory stays one page deep however large
 * the result.
 */
export async function* exportChunks(
  db: Database,
  where: SQL | undefined,
  format: ExportFormat,
  options: ExportProgress = {},
): AsyncGenerator<string> {
  const { header, recordSeparator } = EXPORT_FORMAT_DESCRIPTORS[format];
  if (header !== null) yield header + recordSeparator;
  let after: string | null = null;
  let exported = 0;
  for (;;) {
    const page = await findEventsPage(db, where, 'OCCURRED_AT_ASC', {
      first: options.pageSize ?? MAX_PAGE_SIZE,
      after,
    });
    if (page.edges.length === 0) return;
    let chunk = '';
    for (const edge of page.edges) {
      chunk += formatEvent(format, edge.node, options.formatOptions) + recordSeparator;
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
