import { EMIT_MANY, type Tenant } from '../../support/test-app.ts';

/** Emits `count` events numbered by `metadata.seq` (from `from`), in order, in batches; returns their ids. */
export async function emitNumbered(tenant: Tenant, count: number, from = 0, batch = 500): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < from + count; start += batch) {
    const size = Math.min(batch, from + count - start);
    const input = Array.from({ length: size }, (_, index) => ({
      action: (start + index) % 3 === 0 ? 'user.login_failed' : 'document.updated',
      actor: { id: `usr_${start + index}`, name: `User ${start + index}` },
      targets: [{ id: `doc_${start + index}`, type: 'document', name: 'Plan | Q3 = "final"' }],
      context: { ipAddress: '203.0.113.9', userAgent: 'curl/8' },
      metadata: { seq: start + index },
      occurredAt: new Date(Date.UTC(2026, 0, 1) + (start + index) * 1000).toISOString(),
    }));
    const result = await tenant.gql(EMIT_MANY, { input });
    if (result.errors || result.data!.emitEvents.rejectedCount !== 0) {
      throw new Error(`emit failed: ${JSON.stringify(result.errors ?? result.data)}`);
    }
    ids.push(...result.data!.emitEvents.results.map((r: { event: { id: string } }) => r.event.id));
  }
  return ids;
}
