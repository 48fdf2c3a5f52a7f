import type postgres from 'postgres';

/**
 * Creates `<schema>.events` with the shape of Auditline's `public.events`: the same columns,
 * collations and defaults, the same primary key, the same daily partitions and the same indexes,
 * read from the catalog so the baselines follow the product's schema as it changes.
 */
export async function createEventsTableLike(
  sql: postgres.Sql,
  schema: string,
  options: { withIndexes: boolean; defaults?: Record<string, string> },
): Promise<void> {
  await sql.unsafe(`drop schema if exists ${schema} cascade`);
  await sql.unsafe(`create schema ${schema}`);
  await sql.unsafe(
    `create table ${schema}.events (like public.events including defaults including storage)
     partition by range (received_at)`,
  );
  await sql.unsafe(`alter table ${schema}.events add constraint events_pkey primary key (id, received_at)`);
  for (const [column, expression] of Object.entries(options.defaults ?? {})) {
    await sql.unsafe(`alter table ${schema}.events alter column ${column} set default ${expression}`);
  }
  const partitions = await sql<{ name: string; bound: string }[]>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'public.events'::regclass
    order by c.relname`;
  for (const partition of partitions) {
    await sql.unsafe(
      `create table ${schema}.${partition.name} partition of ${schema}.events ${partition.bound}`,
    );
  }
  if (options.withIndexes) await createEventIndexesLike(sql, schema);
}

/** The secondary indexes of `public.events`, rebuilt on `<schema>.events` (in bulk, after a load). */
export async function createEventIndexesLike(sql: postgres.Sql, schema: string): Promise<void> {
  const definitions = await sql<{ definition: string }[]>`
    select pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid = 'public.events'::regclass and not i.indisprimary
    order by i.indexrelid`;
  await sql.unsafe(`set maintenance_work_mem = '512MB'`);
  for (const { definition } of definitions) {
    const rewritten = definition.replace(/ ON (ONLY )?public\.events /, ` ON ${schema}.events `);
    if (rewritten === definition) throw new Error(`Cannot retarget index definition: ${definition}`);
    await sql.unsafe(rewritten);
  }
}
