import { describe, expect, it } from 'vitest';
import { parseLineProtocol } from '../../../src/ingest/line-protocol/parse.ts';
import type { Precision } from '../../../src/ingest/line-protocol/precision.ts';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
const parse = (text: string, precision: Precision = 'ns') =>
  parseLineProtocol(text, { precision, nowMs: NOW });

describe('parseLineProtocol', () => {
  it('parses measurement, tags, every field type and an ns timestamp exactly', () => {
    const r = parse('web,host=a,region=eu f=1.5,i=-42i,u=42u,b=t,s="hi" 1700000000123456789');
    expect(r.errors).toEqual([]);
    expect(r.entries).toEqual([
      {
        tag: 'web',
        tags: { host: 'a', region: 'eu' },
        record: { f: 1.5, i: -42n, u: 42n, b: true, s: 'hi' },
        sec: 1700000000,
        nsec: 123456789,
      },
    ]);
  });

  it.each([
    ['t', true],
    ['T', true],
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['f', false],
    ['F', false],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['1', 1],
    ['-1.5e3', -1500],
    ['.5', 0.5],
    ['1.', 1],
    ['9007199254740993i', 9007199254740993n],
    ['-9223372036854775808i', -9223372036854775808n],
    ['18446744073709551615u', 18446744073709551615n],
    ['9007199254740991i', 9007199254740991n],
    ['42i', 42n],
  ])('reads field value %s', (raw, want) => {
    const r = parse(`m v=${raw} 0`);
    expect(r.errors).toEqual([]);
    expect(r.entries[0]?.record.v).toEqual(want);
  });

  it.each([
    ['tru', 'line 1: invalid field value "tru" for key v'],
    ['1.2.3', 'line 1: invalid field value "1.2.3" for key v'],
    ['1x', 'line 1: invalid field value "1x" for key v'],
    ['-1u', 'line 1: invalid field value "-1u" for key v'],
    ['9223372036854775808i', 'line 1: integer value 9223372036854775808 out of range for key v'],
    [
      '18446744073709551616u',
      'line 1: unsigned integer value 18446744073709551616 out of range for key v',
    ],
    ['1e999', 'line 1: float value 1e999 out of range for key v'],
    ['NaN', 'line 1: invalid field value "NaN" for key v'],
    ['+1', 'line 1: invalid field value "+1" for key v'],
    ['0x1F', 'line 1: invalid field value "0x1F" for key v'],
    ['Infinity', 'line 1: invalid field value "Infinity" for key v'],
    ['1-2', 'line 1: invalid field value "1-2" for key v'],
    ['-i', 'line 1: invalid field value "-i" for key v'],
    ['i', 'line 1: invalid field value "i" for key v'],
    ['u', 'line 1: invalid field value "u" for key v'],
  ])('rejects field value %s', (raw, message) => {
    const r = parse(`m v=${raw}`);
    expect(r.entries).toEqual([]);
    expect(r.errors).toEqual([{ line: 1, message }]);
  });

  it('unescapes measurement, tag keys/values, field keys and string values', () => {
    const text = String.raw`my\ meas\,ure=x,tag\ k\,e\=y=v\ a\,l\=ue,path=C:\dir f\ k\,e\=y="say \"hi\" \\ \n",n=1 1`;
    const r = parse(text);
    expect(r.errors).toEqual([]);
    expect(r.entries[0]).toMatchObject({
      tag: 'my meas,ure=x',
      tags: { 'tag k,e=y': 'v a,l=ue', path: 'C:\\dir' },
      record: { 'f k,e=y': 'say "hi" \\ \\n', n: 1 },
    });
  });

  it('keeps commas, spaces, equals signs and newlines inside string values', () => {
    const r = parse('m s="a, b=c\nd" 5\nm s="x" 6');
    expect(r.errors).toEqual([]);
    expect(r.entries.map((e) => e.record.s)).toEqual(['a, b=c\nd', 'x']);
    expect(r.entries.map((e) => e.nsec)).toEqual([5, 6]);
  });

  it('skips comments, blank lines and leading whitespace, and accepts CRLF', () => {
    const r = parse('# header\r\n\r\n   m v=1 1\r\n\tm v=2 2 \r\n# end');
    expect(r.errors).toEqual([]);
    expect(r.entries.map((e) => e.record.v)).toEqual([1, 2]);
  });

  it('stamps points without a timestamp with now truncated to the precision', () => {
    expect(parse('m v=1').entries[0]).toMatchObject({
      sec: Math.floor(NOW / 1000),
      nsec: 123_000_000,
    });
    expect(parse('m v=1', 's').entries[0]).toMatchObject({ sec: Math.floor(NOW / 1000), nsec: 0 });
  });

  it.each([
    ['ns', '1700000000123456789', 1700000000, 123456789],
    ['us', '1700000000123456', 1700000000, 123456000],
    ['ms', '1700000000123', 1700000000, 123000000],
    ['s', '1700000000', 1700000000, 0],
    ['m', '28333333', 1699999980, 0],
    ['h', '472222', 1699999200, 0],
    ['ns', '-1', -1, 999999999],
    ['s', '0', 0, 0],
  ] as const)('converts a %s timestamp %s', (precision, ts, sec, nsec) => {
    const r = parse(`m v=1 ${ts}`, precision);
    expect(r.errors).toEqual([]);
    expect(r.entries[0]).toMatchObject({ sec, nsec });
  });

  it('accepts valid lines and names every bad line with its number and problem', () => {
    const text = [
      'cpu usage=1 1',
      '',
      'cpu reqtime=x 2',
      'cpu',
      'cpu,host usage=1',
      'cpu usage=1 12ab',
      'cpu usage="open',
      'cpu usage=2 3',
      'cpu usage=1 99999999999999999999',
      ',host=a usage=1',
      'cpu usage=1 1 extra',
      'cpu usage=',
      'cpu,host= usage=1',
    ].join('\n');
    const r = parse(text);
    expect(r.entries.map((e) => e.record.usage)).toEqual([1, 2]);
    expect(r.errors.map((e) => e.message)).toEqual([
      'line 3: invalid field value "x" for key reqtime',
      'line 4: missing fields',
      'line 5: missing tag value for key host',
      'line 6: invalid timestamp "12ab"',
      'line 7: unterminated string value for key usage',
      'line 9: timestamp 99999999999999999999 out of range',
      'line 10: missing measurement',
      'line 11: unexpected text after timestamp',
      'line 12: missing field value for key usage',
      'line 13: missing tag value for key host',
    ]);
    expect(r.errorCount).toBe(10);
  });

  it('caps the collected messages but counts every bad line', () => {
    const text = Array.from({ length: 500 }, () => 'bad').join('\n');
    const r = parseLineProtocol(text, { precision: 'ns', nowMs: NOW, maxErrors: 3 });
    expect(r.errors).toHaveLength(3);
    expect(r.errorCount).toBe(500);
  });

  it('keeps the last value of a repeated field key', () => {
    expect(parse('m a=1,a=2 0').entries[0]?.record).toEqual({ a: 2 });
  });
});

describe('parseLineProtocol › hostile keys', () => {
  it('keeps __proto__ as an ordinary tag and field key', () => {
    const e = parseLineProtocol('m,__proto__=x __proto__=1,a=2 0', { precision: 'ns', nowMs: 0 })
      .entries[0]!;
    expect(Object.getPrototypeOf(e.record)).toBe(Object.prototype);
    expect(Object.keys(e.record)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(e.tags, '__proto__')?.value).toBe('x');
  });
});
