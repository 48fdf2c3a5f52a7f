import { describe, expect, it } from 'vitest';
import { compileEventQuery } from '../../src/events/filter.ts';

const planFitsEveryValue = (filter: object, query: string | null) =>
  compileEventQuery(null, filter, query).planFitsEveryValue;

describe('which event pages reuse one query plan', () => {
  it.each([
    [{}, null],
    [{ actions: ['user.login'], occurredAfter: new Date('2026-01-01') }, null],
    [{ actorIds: ['usr_1'], actorTypes: ['user'] }, 'action:user.* -actor:svc_1 created:>=2026-11-01'],
  ])('reuses it for equalities and ranges: %j %s', (filter, query) => {
    expect(planFitsEveryValue(filter, query)).toBe(true);
  });

  it.each([
    [{ search: 'invoice' }, null],
    [{ metadata: { plan: 'pro' } }, null],
    [{ targetIds: ['doc_1'] }, null],
    [{ targetTypes: ['document'] }, null],
    [{ ipAddress: '10.0.0.0/8' }, null],
    [{}, 'invoice'],
    [{}, 'action:user.login ip:10.0.0.1'],
    [{}, 'target:doc_1'],
  ])('plans each execution when selectivity depends on the value: %j %s', (filter, query) => {
    expect(planFitsEveryValue(filter, query)).toBe(false);
  });
});
