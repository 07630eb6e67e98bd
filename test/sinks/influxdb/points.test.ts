import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SchemaConfig } from '../../../src/config/schema.ts';
import type { Entry } from '../../../src/core/entry.ts';
import { compileSchema, toLines, toPoint, toPoints } from '../../../src/sinks/influxdb/points.ts';
import type { SpooledBatch } from '../../../src/spool/contract.ts';

const schema: SchemaConfig = {
  routes: [{ match: 'app.access.**', measurement: 'access' }],
  tag_keys: ['level', 'status', 'method'],
};

const labels = { role: 'web', version: '1.4.2', slot: '3' };

function spooled(entries: Entry[], firstEntrySeq = 1000): SpooledBatch {
  return { seq: 1, firstEntrySeq, batch: { entries, origin: { input: 'forward' }, receivedAt: 0 } };
}

const T = 1_700_000_000;

describe('point schema', () => {
  it('writes a log record with role/version/slot tags, tag_keys as tags and instance_id as a field', () => {
    const entry: Entry = {
      tag: 'app.access.web',
      sec: T,
      nsec: 0,
      record: {
        status: 200,
        method: 'GET',
        level: 'info',
        path: '/x',
        reqtime: 0.25,
        meta: { a: 1 },
      },
      labels,
      instanceId: 'i-0abc',
    };
    expect(toLines(spooled([entry]), schema)).toEqual([
      `access,level=info,method=GET,role=web,slot=3,status=200,version=1.4.2 ` +
        `path="/x",reqtime=0.25,meta.a=1,instance_id="i-0abc" ${T}000001000`,
    ]);
  });

  it('keeps a tag_keys string longer than 256 UTF-16 code units as a field under its key', () => {
    const long = 'é'.repeat(257);
    const at = 'é'.repeat(256);
    const entry: Entry = {
      tag: 'x',
      sec: T,
      nsec: 0,
      record: { msg: 'm', level: long, method: at },
      labels,
    };
    expect(toLines(spooled([entry], 0), schema)).toEqual([
      `x,method=${at},role=web,slot=3,version=1.4.2 msg="m",level="${long}" ${T}000000000`,
    ]);
    const p = toPoint(entry, 0, compileSchema(schema));
    expect('line' in p && p.fields.level).toBe(long);
  });

  it('keeps a non-scalar tag_keys value as a field', () => {
    const entry: Entry = { tag: 'x', sec: T, nsec: 0, record: { level: { nested: 1 } }, labels };
    expect(toLines(spooled([entry], 0), schema)).toEqual([
      `x,role=web,slot=3,version=1.4.2 level.nested=1 ${T}000000000`,
    ]);
  });

  it('gives every entry of one second a distinct, replay-stable timestamp from entry_seq', () => {
    const entries: Entry[] = Array.from({ length: 3 }, (_, i) => ({
      tag: 'app.log',
      sec: T,
      nsec: 0,
      record: { msg: `m${i}` },
      labels,
    }));
    const lines = toLines(spooled(entries, 2_999_999), schema);
    expect(lines.map((l) => l.split(' ').at(-1))).toEqual([
      `${T}000999999`,
      `${T}000000000`,
      `${T}000000001`,
    ]);
    expect(toLines(spooled(entries, 2_999_999), schema)).toEqual(lines);
  });

  it('keeps line-protocol tags, demotes instance_id and host to fields, lets labels win', () => {
    const entry: Entry = {
      tag: 'cpu',
      sec: T,
      nsec: 5,
      record: { usage: 0.5 },
      tags: { instance_id: 'i-1', host: 'ip-10-0-0-1', cpu: 'cpu0', role: 'stale' },
      labels,
      instanceId: 'i-1',
    };
    expect(toLines(spooled([entry], 10), schema)).toEqual([
      `cpu,cpu=cpu0,role=web,slot=3,version=1.4.2 usage=0.5,instance_id="i-1",host="ip-10-0-0-1" ${T}000000015`,
    ]);
  });

  it('does not promote tag_keys record keys of line-protocol points', () => {
    const entry: Entry = {
      tag: 'http',
      sec: T,
      nsec: 0,
      record: { status: 200 },
      tags: { a: 'b' },
    };
    expect(toLines(spooled([entry], 0), schema)).toEqual([`http,a=b status=200 ${T}000000000`]);
  });

  it('writes fleet_rollup and fleet_members at their exact time so a late entry rewrites the point', () => {
    const rollup: Entry = {
      tag: 'fleet_rollup',
      sec: T,
      nsec: 0,
      record: { events: 10n, reqtime_p95: 0.3 },
      tags: { role: 'web', version: '1.4.2', measurement: 'access' },
    };
    const members: Entry = {
      tag: 'fleet_members',
      sec: T,
      nsec: 0,
      record: { members: 4n },
      tags: { role: 'web', version: '1' },
    };
    expect(toLines(spooled([rollup, members], 123), schema)).toEqual([
      `fleet_rollup,measurement=access,role=web,version=1.4.2 events=10i,reqtime_p95=0.3 ${T}000000000`,
      `fleet_members,role=web,version=1 members=4i ${T}000000000`,
    ]);
  });

  it('offsets fleet_events by a hash of event_id, the same for any entry_seq', () => {
    const event: Entry = {
      tag: 'fleet_events',
      sec: T,
      nsec: 123_456_789,
      record: { event_id: 'ev-1', text: 'i-1 → i-2', slot: 2n },
      tags: { role: 'web', kind: 'replace' },
    };
    const a = toLines(spooled([event], 1), schema)[0]!;
    const b = toLines(spooled([event], 777), schema)[0]!;
    expect(a).toBe(b);
    const ns = BigInt(a.split(' ').at(-1)!);
    expect(ns / 1_000_000n).toBe(BigInt(T) * 1000n + 123n);
    const other = toLines(
      spooled([{ ...event, record: { ...event.record, event_id: 'ev-2' } }], 1),
      schema,
    )[0]!;
    expect(other.split(' ').at(-1)).not.toBe(a.split(' ').at(-1));
  });

  it('renames a field that collides with a tag and adds _count when no field is left', () => {
    const entry: Entry = {
      tag: 'x',
      sec: T,
      nsec: 0,
      record: { role: 'db', level: 'warn' },
      labels,
    };
    const only: Entry = { tag: 'y', sec: T, nsec: 0, record: { level: 'warn' } };
    expect(toLines(spooled([entry, only], 0), schema)).toEqual([
      `x,level=warn,role=web,slot=3,version=1.4.2 role_field="db" ${T}000000000`,
      `y,level=warn _count=1i ${T}000000001`,
    ]);
  });

  it('reports an entry with an empty tag as unencodable instead of writing it', () => {
    const { points, unencodable } = toPoints(
      spooled([{ tag: '', sec: T, nsec: 0, record: { a: 1 } }]),
      compileSchema(schema),
    );
    expect(points).toEqual([]);
    expect(unencodable.map((u) => u.reason)).toEqual(['entry has an empty tag: no measurement']);
  });

  it('drops empty record keys and falls back to _count', () => {
    const entry: Entry = { tag: 'z', sec: T, nsec: 0, record: { '': 'x', n: null } };
    expect(toLines(spooled([entry], 0), schema)).toEqual([`z _count=1i ${T}000000000`]);
  });
});

describe('point time', () => {
  const plan = compileSchema({ routes: [], tag_keys: [] });
  const timeOf = (tag: string, sec: number, nsec: number, firstEntrySeq: number) => {
    const spooled: SpooledBatch = {
      seq: 1,
      firstEntrySeq,
      batch: {
        origin: { input: 'forward' },
        receivedAt: 0,
        entries: [{ tag, sec, nsec, record: { v: 1 } }],
      },
    };
    return toLines(spooled, plan)[0]!.split(' ').at(-1)!;
  };

  it('is sec·10⁹ + nsec + (entry_seq mod 10⁶) exactly, carries included, for any valid time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.oneof(fc.maxSafeInteger().map(Math.abs), fc.integer({ min: 0, max: 3_000_000 })),
        (sec, nsec, seq) => {
          const want = BigInt(sec) * 1_000_000_000n + BigInt(nsec) + (BigInt(seq) % 1_000_000n);
          expect(timeOf('app', sec, nsec, seq)).toBe(String(want));
        },
      ),
    );
    expect(timeOf('app', 0, 5, 0)).toBe('5');
    expect(timeOf('app', 1, 999_999_999, 1)).toBe('2000000000');
    expect(timeOf('app', -2, 500, 3)).toBe(String(-2_000_000_000n + 503n));
  });

  it('has no offset for fleet_rollup and fleet_members points', () => {
    expect(timeOf('fleet_rollup', 1_700_000_000, 0, 12_345)).toBe('1700000000000000000');
    expect(timeOf('fleet_members', 1_700_000_000, 42, 7)).toBe('1700000000000000042');
  });
});

describe('fields that clash with tags', () => {
  const plan = compileSchema({ routes: [], tag_keys: ['level', 'role_field'] });
  const lineOf = (record: Entry['record'], labels: Record<string, string>) =>
    toLines(
      {
        seq: 1,
        firstEntrySeq: 0,
        batch: {
          origin: { input: 'forward' },
          receivedAt: 0,
          entries: [{ tag: 'm', sec: 1, nsec: 0, record, labels }],
        },
      },
      plan,
    )[0]!;
  /** The rule as first written: move each clash to `<name>_field` and delete it, in tag order. */
  const reference = (record: Record<string, string>, labels: Record<string, string>) => {
    const tags: Record<string, string> = { ...labels };
    const fields: Record<string, string> = {};
    for (const k of ['level', 'role_field'])
      if (record[k] !== undefined && tags[k] === undefined) tags[k] = record[k];
    for (const [k, v] of Object.entries(record))
      if (!(k in tags && (k === 'level' || k === 'role_field') && tags[k] === v)) fields[k] = v;
    for (const t in tags) {
      if (fields[t] === undefined) continue;
      fields[`${t}_field`] = fields[t]!;
      delete fields[t];
    }
    return Object.entries(fields)
      .map(([k, v]) => `${/^time_*$/.test(k) ? `${k}_` : k}="${v}"`)
      .join(',');
  };

  it('moves a field named like a tag to <name>_field, after the other fields, in tag order', () => {
    const line = lineOf(
      { version: '9', msg: 'a', role: 'x', level: 'info' },
      { role: 'web', version: '1' },
    );
    expect(line).toBe(
      'm,level=info,role=web,version=1 msg="a",role_field="x",version_field="9" 1000000000',
    );
  });

  it('agrees with the move-and-delete rule on any mix of clashing and _field names', () => {
    const name = fc.constantFrom(
      'role',
      'role_field',
      'role_field_field',
      'version',
      'time',
      'time_',
      'time__',
      'msg',
    );
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.constantFrom('a', 'b')),
        fc.dictionary(
          fc.constantFrom('role', 'version', 'time_', 'role_field'),
          fc.constantFrom('L'),
        ),
        (record, labels) => {
          const fields = lineOf(record, labels).split(' ')[1]!;
          expect(fields).toBe(reference(record, labels) || '_count=1i');
        },
      ),
      { numRuns: 300 },
    );
  });
});
