import { describe, expect, it } from 'vitest';
import { ident, measurementIdent, stringLiteral } from '../../../src/generate/influxql-text.ts';
import {
  encodeLine,
  escapeFieldKey,
  escapeKey,
  escapeMeasurement,
  escapeStringField,
  escapeTagValue,
  type FieldScalar,
  fieldType,
  flattenFields,
  type Point,
  safeKey,
  storedMeasurement,
  storedTagValue,
} from '../../../src/sinks/influxdb/encode.ts';
import { freshDatabase, influxql, influxUrl } from '../../helpers/influxdb.ts';

interface Case {
  name: string;
  point: Omit<Point, 'timeNs'>;
  line: string;
  /** What the server stores (after its own unescaping). */
  stored: { measurement: string; tags: Record<string, string>; fields: Record<string, unknown> };
}

// Every escape rule, with the exact line and what a real InfluxDB 1.6.7 stores for it.
const CASES: Case[] = [
  {
    name: 'space and comma in measurement',
    point: { measurement: 'cpu load,x', tags: {}, fields: { v: 1 } },
    line: 'cpu\\ load\\,x v=1',
    stored: { measurement: 'cpu load,x', tags: {}, fields: { v: 1 } },
  },
  {
    name: 'equals sign in measurement needs no escape',
    point: { measurement: 'a=b', tags: {}, fields: { v: 1 } },
    line: 'a=b v=1',
    stored: { measurement: 'a=b', tags: {}, fields: { v: 1 } },
  },
  {
    name: 'leading # in measurement (else a comment)',
    point: { measurement: '#hash', tags: {}, fields: { v: 1 } },
    line: '_#hash v=1',
    stored: { measurement: '_#hash', tags: {}, fields: { v: 1 } },
  },
  {
    name: 'comma, equals and space in tag keys and values',
    point: { measurement: 'esc_tags', tags: { 'k ,=': 'v ,=x' }, fields: { v: 1 } },
    line: 'esc_tags,k\\ \\,\\==v\\ \\,\\=x v=1',
    stored: { measurement: 'esc_tags', tags: { 'k ,=': 'v ,=x' }, fields: { v: 1 } },
  },
  {
    name: 'newline and carriage return in a tag value become literal \\n \\r',
    point: { measurement: 'esc_nl', tags: { t: 'a\nb\rc' }, fields: { v: 1 } },
    line: 'esc_nl,t=a\\nb\\rc v=1',
    stored: { measurement: 'esc_nl', tags: { t: 'a\\nb\\rc' }, fields: { v: 1 } },
  },
  {
    name: 'newline in measurement and field key',
    point: { measurement: 'esc\nm', tags: {}, fields: { 'f\nk': 1 } },
    line: 'esc\\nm f\\nk=1',
    stored: { measurement: 'esc\\nm', tags: {}, fields: { 'f\\nk': 1 } },
  },
  {
    name: 'backslash inside a tag value is kept',
    point: { measurement: 'esc_bs', tags: { path: 'C:\\dir\\x' }, fields: { v: 1 } },
    line: 'esc_bs,path=C:\\dir\\x v=1',
    stored: { measurement: 'esc_bs', tags: { path: 'C:\\dir\\x' }, fields: { v: 1 } },
  },
  {
    name: 'trailing backslash in a tag value gets a / after it',
    point: { measurement: 'esc_bs_end', tags: { path: 'C:\\dir\\' }, fields: { v: 1 } },
    line: 'esc_bs_end,path=C:\\dir\\/ v=1',
    stored: { measurement: 'esc_bs_end', tags: { path: 'C:\\dir\\/' }, fields: { v: 1 } },
  },
  {
    name: 'a tag value ending in backslash and slash keeps them apart from one ending in backslash',
    point: { measurement: 'esc_bs_end2', tags: { path: 'x\\/', two: 'y\\\\' }, fields: { v: 1 } },
    line: 'esc_bs_end2,path=x\\//,two=y\\\\/ v=1',
    stored: {
      measurement: 'esc_bs_end2',
      tags: { path: 'x\\//', two: 'y\\\\/' },
      fields: { v: 1 },
    },
  },
  {
    // A tag value's backslash before a space gets a `/` too: written as `\\\\ `, 1.x's line
    // splitter pairs the two backslashes and takes the space for the end of the tags.
    name: 'backslash before comma, = or " in a tag value is kept; before a space, or ending a key, it gets a /',
    point: {
      measurement: 'esc_bs_tags',
      tags: { t: 'v\\ y\\,z\\=w\\"q', 'k\\ x': '1', 'p\\': '2', 'q\\"': '3' },
      fields: { v: 1 },
    },
    line: 'esc_bs_tags,k\\/\\ x=1,p\\/=2,q\\"=3,t=v\\/\\ y\\\\,z\\\\=w\\"q v=1',
    stored: {
      measurement: 'esc_bs_tags',
      tags: { t: 'v\\/ y\\,z\\=w\\"q', 'k\\/ x': '1', 'p\\/': '2', 'q\\"': '3' },
      fields: { v: 1 },
    },
  },
  {
    name: 'backslash before space, comma, = or " in a measurement gets a / after it',
    point: { measurement: 'C:\\ x\\,y\\=z\\"q', tags: {}, fields: { v: 1 } },
    line: 'C:\\/\\ x\\/\\,y\\/=z\\/"q v=1',
    stored: { measurement: 'C:\\/ x\\/,y\\/=z\\/"q', tags: {}, fields: { v: 1 } },
  },
  {
    name: 'measurement ending in a backslash (also before tags) gets a / after it',
    point: { measurement: 'esc_m\\', tags: { t: 'x' }, fields: { v: 1 } },
    line: 'esc_m\\/,t=x v=1',
    stored: { measurement: 'esc_m\\/', tags: { t: 'x' }, fields: { v: 1 } },
  },
  {
    name: 'backslash elsewhere in a measurement is kept',
    point: { measurement: 'esc\\m\\\\n\\/', tags: {}, fields: { v: 1 } },
    line: 'esc\\m\\\\n\\// v=1',
    stored: { measurement: 'esc\\m\\\\n\\//', tags: {}, fields: { v: 1 } },
  },
  {
    name: 'backslash before space, comma or = in a field key, or ending it, gets a / after it',
    point: {
      measurement: 'esc_bs_fk',
      tags: {},
      fields: { 'a\\ b': 1, 'c\\,d': 2, 'e\\=f': 3, 'g\\': 4, 'h\\\\ i': 5, 'j\\k': 6 },
    },
    line: 'esc_bs_fk a\\/\\ b=1,c\\/\\,d=2,e\\/\\=f=3,g\\/=4,h\\\\/\\ i=5,j\\k=6',
    stored: {
      measurement: 'esc_bs_fk',
      tags: {},
      fields: { 'a\\/ b': 1, 'c\\/,d': 2, 'e\\/=f': 3, 'g\\/': 4, 'h\\\\/ i': 5, 'j\\k': 6 },
    },
  },
  {
    name: 'quote in a field key, with or without a backslash before it',
    point: { measurement: 'esc_q_fk', tags: {}, fields: { 'q"x': 1, 'r\\"y': 2, 's\\/ t': 3 } },
    line: 'esc_q_fk q\\"x=1,r\\\\"y=2,s\\//\\ t=3',
    stored: { measurement: 'esc_q_fk', tags: {}, fields: { 'q"x': 1, 'r\\"y': 2, 's\\// t': 3 } },
  },
  {
    name: 'backslash before an escaped comma survives',
    point: { measurement: 'esc_bs_comma', tags: { t: 'a\\,b' }, fields: { v: 1 } },
    line: 'esc_bs_comma,t=a\\\\,b v=1',
    stored: { measurement: 'esc_bs_comma', tags: { t: 'a\\,b' }, fields: { v: 1 } },
  },
  {
    name: 'quotes, backslashes and raw newlines in a string field',
    point: {
      measurement: 'esc_str',
      tags: {},
      fields: { msg: 'say "hi" \\ end\\\nline2\r\nline3' },
    },
    line: 'esc_str msg="say \\"hi\\" \\\\ end\\\\\nline2\r\nline3"',
    stored: {
      measurement: 'esc_str',
      tags: {},
      fields: { msg: 'say "hi" \\ end\\\nline2\r\nline3' },
    },
  },
  {
    name: 'field key with comma, equals and space',
    point: { measurement: 'esc_fk', tags: {}, fields: { 'a b,c=d': 'x' } },
    line: 'esc_fk a\\ b\\,c\\=d="x"',
    stored: { measurement: 'esc_fk', tags: {}, fields: { 'a b,c=d': 'x' } },
  },
  {
    name: 'time as a field or tag key is renamed (1.x drops/rejects it)',
    point: { measurement: 'esc_time', tags: { time: 'x' }, fields: { time: 5 } },
    line: 'esc_time,time_=x time_=5',
    stored: { measurement: 'esc_time', tags: { time_: 'x' }, fields: { time_: 5 } },
  },
  {
    name: 'time followed by underscores gets one more: time and time_ stay two names',
    point: {
      measurement: 'esc_time2',
      tags: { time: 'x', time_: 'y' },
      fields: { time__: 5, v: 6 },
    },
    line: 'esc_time2,time_=x,time__=y time___=5,v=6',
    stored: {
      measurement: 'esc_time2',
      tags: { time_: 'x', time__: 'y' },
      fields: { time___: 5, v: 6 },
    },
  },
  {
    name: 'numbers are floats, bigints integers, booleans, empty string',
    point: {
      measurement: 'types',
      tags: {},
      fields: { f: 1, g: 1.5, i: 42n, big: 9223372036854775807n, b: true, c: false, s: '' },
    },
    line: 'types f=1,g=1.5,i=42i,big=9223372036854775807i,b=true,c=false,s=""',
    stored: {
      measurement: 'types',
      tags: {},
      fields: { b: true, big: Number(2n ** 63n - 1n), c: false, f: 1, g: 1.5, i: 42, s: '' },
    },
  },
  {
    name: "uint64 beyond int64 wraps to its two's-complement integer (1.x has no unsigned)",
    point: {
      measurement: 'u64',
      tags: {},
      fields: { small: 5n, max: 2n ** 64n - 1n, half: 2n ** 63n, beyond: 2n ** 64n },
    },
    line: 'u64 small=5i,max=-1i,half=-9223372036854775808i,beyond=18446744073709552000',
    stored: {
      measurement: 'u64',
      tags: {},
      fields: { beyond: 2 ** 64, half: -(2 ** 63), max: -1, small: 5 },
    },
  },
  {
    name: 'a tag value with a backslash before a space, then a multi-line string field',
    point: { measurement: 'esc_split', tags: { t: 'a\\ b\\,c' }, fields: { msg: 'x\ny' } },
    line: 'esc_split,t=a\\/\\ b\\\\,c msg="x\ny"',
    stored: { measurement: 'esc_split', tags: { t: 'a\\/ b\\,c' }, fields: { msg: 'x\ny' } },
  },
  {
    name: 'measurement starting with a tab before # (else a comment)',
    point: { measurement: '\t#m', tags: {}, fields: { v: 1 } },
    line: '_\t#m v=1',
    stored: { measurement: '_\t#m', tags: {}, fields: { v: 1 } },
  },
  {
    name: 'measurement starting with a NUL (written \\0), first field key starting with a tab',
    point: { measurement: '\0m', tags: {}, fields: { '\tk': 1 } },
    line: '\\0m _\tk=1',
    stored: { measurement: '\\0m', tags: {}, fields: { '_\tk': 1 } },
  },
  {
    name: 'underscores before # get one more, so `_#m` and `#m` stay apart',
    point: { measurement: '_#m', tags: { '_\tt': 'x' }, fields: { v: 1 } },
    line: '__#m,__\tt=x v=1',
    stored: { measurement: '__#m', tags: { '__\tt': 'x' }, fields: { v: 1 } },
  },
  {
    name: 'tags sorted by key, empty values dropped, unicode kept',
    point: { measurement: 'sorted', tags: { z: 'ü x', a: '1', empty: '' }, fields: { v: 2 } },
    line: 'sorted,a=1,z=ü\\ x v=2',
    stored: { measurement: 'sorted', tags: { a: '1', z: 'ü x' }, fields: { v: 2 } },
  },
];

describe('line-protocol encoder', () => {
  it.each(CASES)('encodes $name', ({ point, line }) => {
    expect(encodeLine({ ...point, timeNs: 7n })).toBe(`${line} 7`);
  });

  it('escapes each part with its own rule', () => {
    expect(escapeMeasurement('a,b c=d')).toBe('a\\,b\\ c=d');
    expect(escapeKey('a,b c=d')).toBe('a\\,b\\ c\\=d');
    expect(escapeKey('a"b')).toBe('a"b');
    expect(escapeFieldKey('a"b')).toBe('a\\"b');
    expect(escapeTagValue('end\\')).toBe('end\\/');
    expect(safeKey('end\\')).toBe('end\\/');
    expect(safeKey('a\\ b\\/,c')).toBe('a\\/ b\\//,c');
    expect(safeKey('time')).toBe('time_');
    expect(safeKey('time_')).toBe('time__');
    expect(safeKey('time__')).toBe('time___');
    expect(safeKey('time_x')).toBe('time_x');
    expect(safeKey('times')).toBe('times');
    expect(safeKey('_time')).toBe('_time');
    expect(escapeStringField('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('skips non-finite numbers and returns undefined when no field is left', () => {
    expect(
      encodeLine({ measurement: 'm', tags: {}, fields: { a: Number.NaN, b: 1 }, timeNs: 1n }),
    ).toBe('m b=1 1');
    expect(
      encodeLine({
        measurement: 'm',
        tags: {},
        fields: { a: Number.POSITIVE_INFINITY },
        timeNs: 1n,
      }),
    ).toBe(undefined);
    expect(encodeLine({ measurement: '', tags: {}, fields: { a: 1 }, timeNs: 1n })).toBe(undefined);
  });

  it('writes uint64 beyond int64 as its wrapped integer, bigints beyond uint64 as floats', () => {
    const field = (u: bigint) =>
      encodeLine({ measurement: 'm', tags: {}, fields: { u }, timeNs: 1n })?.slice(2, -2);
    expect(field(2n ** 63n - 1n)).toBe('u=9223372036854775807i');
    expect(field(2n ** 63n)).toBe('u=-9223372036854775808i');
    expect(field(2n ** 64n - 2n)).toBe('u=-2i');
    expect(field(-(2n ** 63n))).toBe('u=-9223372036854775808i');
    expect(field(2n ** 64n)).toBe(`u=${Number(2n ** 64n)}`);
    expect(field(-(2n ** 63n) - 1n)).toBe(`u=${Number(-(2n ** 63n) - 1n)}`);
    expect(fieldType(2n ** 64n - 1n)).toBe('integer');
    expect(fieldType(2n ** 64n)).toBe('float');
    expect(fieldType(5n)).toBe('integer');
    expect(fieldType(5)).toBe('float');
  });

  it('flattens nested maps, stringifies arrays, base64s bytes and skips nulls', () => {
    const out = flattenFields({
      http: { status: 200, req: { path: '/x' } },
      list: [1, 'a', { b: 2n }],
      bytes: new Uint8Array([104, 105]),
      gone: null,
      nan: Number.NaN,
      msg: 'ok',
    });
    expect(out).toEqual({
      'http.status': 200,
      'http.req.path': '/x',
      list: '[1,"a",{"b":2}]',
      bytes: 'aGk=',
      msg: 'ok',
    } satisfies Record<string, FieldScalar>);
  });

  // The `stored` column is what the real server holds (the round trip below checks it), so
  // this holds the query-side names the generators use to it.
  it('names what InfluxDB stores for each case: storedMeasurement and storedTagValue', () => {
    for (const c of CASES) {
      expect(storedMeasurement(c.point.measurement), c.name).toBe(c.stored.measurement);
      const storedValues = Object.values(c.point.tags)
        .filter((v) => v !== '')
        .map(storedTagValue)
        .sort();
      expect(storedValues, c.name).toEqual(Object.values(c.stored.tags).sort());
    }
  });

  it('round-trips every escape case through a real InfluxDB 1.6.7', async () => {
    const db = await freshDatabase('encode');
    const body = CASES.map((c, i) => encodeLine({ ...c.point, timeNs: BigInt(i + 1) })).join('\n');
    const res = await fetch(`${influxUrl()}/write?db=${db}&precision=ns`, {
      method: 'POST',
      body,
    });
    expect(res.status, await res.text()).toBe(204);
    const [series = []] = await influxql('SELECT * FROM /.*/ GROUP BY *', { db, epoch: 'ns' });
    for (const [i, c] of CASES.entries()) {
      const hits = series.flatMap((s) =>
        s.values
          .filter((v) => v[0] === i + 1)
          .map((v) => ({
            measurement: s.name,
            tags: Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, tv]) => tv !== '')),
            fields: Object.fromEntries(
              s.columns
                .map((col, ci) => [col, v[ci]])
                .filter(([col, fv]) => col !== 'time' && fv !== null),
            ),
          })),
      );
      expect(hits, c.name).toEqual([c.stored]);
    }
  });
});

describe('names InfluxQL must be able to name', () => {
  // InfluxQL's scanner reads a NUL as the end of the query, inside quotes too: a name stored
  // with one could not be queried by name, and a generated query naming it would not parse.
  it('stores a NUL in a measurement, key or tag value as the two characters \\0, queryable', async () => {
    const db = await freshDatabase('encode_nul');
    const point = { measurement: 'm\0x', tags: { 't\0k': 'v\0' }, fields: { 'f\0': 1, g: 2 } };
    const line = encodeLine({ ...point, timeNs: 1n })!;
    expect(line).toBe('m\\0x,t\\0k=v\\0 f\\0=1,g=2 1');
    const res = await fetch(`${influxUrl()}/write?db=${db}&precision=ns`, {
      method: 'POST',
      body: line,
    });
    expect(res.status, await res.text()).toBe(204);
    const q =
      `SELECT ${ident(safeKey('f\0'))} FROM ${measurementIdent('m\0x')} ` +
      `WHERE ${ident(safeKey('t\0k'))} = ${stringLiteral('v\0')}`;
    const [series = []] = await influxql(q, { db, epoch: 'ns' });
    expect(series.map((s) => [s.name, s.values])).toEqual([['m\\0x', [[1, 1]]]]);
    expect(storedMeasurement('m\0x')).toBe('m\\0x');
    expect(storedTagValue('v\0')).toBe('v\\0');
  });
});
