import { describe, expect, it } from 'vitest';
import { toCefLine } from '../../src/export/formats/cef.ts';
import { CSV_COLUMNS, toCsvRow } from '../../src/export/formats/csv.ts';
import { toEcs } from '../../src/export/formats/ecs.ts';
import { EXPORT_FORMATS, formatEvent } from '../../src/export/formats/index.ts';
import { toLeefLine } from '../../src/export/formats/leef.ts';
import { toOcsf } from '../../src/export/formats/ocsf.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

// Events without targets (a login, a settings change) are common; every format must write them, leaving
// the target fields out rather than failing on the missing first target.

const loginWithoutTargets = eventWith({ targets: [] }, FIXTURES.failedLogin);
const readWithoutTargets = eventWith({ targets: [] }, FIXTURES.ipv6ApiRead);

describe('an event without targets', () => {
  it.each(EXPORT_FORMATS)('is one %s record', (format) => {
    for (const event of [loginWithoutTargets, readWithoutTargets]) {
      const record = formatEvent(format, event);
      expect(record).toContain(event.id);
      expect(record).not.toMatch(/usr_ada.*usr_ada.*usr_ada|doc_42/);
    }
  });

  it('has no destination keys in CEF', () => {
    const line = toCefLine(loginWithoutTargets);
    const keys = [...line.matchAll(/ ([A-Za-z0-9]+)=/g)].map((match) => match[1]);
    expect(keys).toEqual([
      'rt',
      'act',
      'suser',
      'suid',
      'src',
      'requestClientApplication',
      'outcome',
      'externalId',
      'cs1Label',
      'cs1',
      'cs2Label',
      'cs2',
      'cs4Label',
      'cs4',
      'cs6Label',
      'cs6',
    ]);
  });

  it('has no resource or target keys in LEEF', () => {
    const attributes = toLeefLine(loginWithoutTargets, { delimiter: '\t' }).split('|').slice(6).join('|');
    expect(attributes.split('\t').map((pair) => pair.slice(0, pair.indexOf('=')))).toEqual([
      'devTime',
      'cat',
      'sev',
      'usrName',
      'src',
      'identSrc',
      'action',
      'outcome',
      'eventId',
      'organizationId',
      'actorId',
      'actorType',
      'userAgent',
      'location',
      'requestId',
      'metadata',
    ]);
  });

  it('has empty target cells in CSV', () => {
    const cells = toCsvRow(readWithoutTargets).split(',');
    const cell = (column: (typeof CSV_COLUMNS)[number]) => cells[CSV_COLUMNS.indexOf(column)];
    expect(cells).toHaveLength(CSV_COLUMNS.length);
    expect([cell('target_ids'), cell('target_types'), cell('target_names')]).toEqual(['', '', '']);
    expect(cell('actor_id')).toBe('key_ci');
  });

  it('has no target account in ECS and no resources in OCSF', () => {
    const ecs = toEcs(loginWithoutTargets) as {
      user: Record<string, unknown>;
      auditline: Record<string, unknown>;
    };
    expect(ecs.user.target).toBeUndefined();
    expect(JSON.stringify(ecs)).not.toContain('"targets"');
    const ocsf = toOcsf(readWithoutTargets) as Record<string, unknown>;
    expect(ocsf.resources).toBeUndefined();
    expect(JSON.stringify(ocsf)).not.toContain('"targets"');
    // A login is not API activity: its targets would go to `unmapped`, and there are none.
    expect(JSON.stringify(toOcsf(loginWithoutTargets))).not.toContain('"targets"');
    expect(JSON.stringify(toOcsf(FIXTURES.failedLogin))).toContain('"targets"');
  });
});
