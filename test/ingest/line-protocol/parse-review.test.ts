import { describe, expect, it } from 'vitest';
import { parseLineProtocol } from '../../../src/ingest/line-protocol/parse.ts';

const parse = (text: string) => parseLineProtocol(text, { precision: 'ns', nowMs: 0 });

describe('parseLineProtocol › bad lines as InfluxDB 1.x delimits them', () => {
  it('rejects a point with a repeated tag key instead of keeping one value silently', () => {
    const r = parse(['m,host=a,host=b v=1 1', 'm,host=a,Host=b v=2 2'].join('\n'));
    expect(r.errors.map((e) => e.message)).toEqual(['line 1: duplicate tag key host']);
    expect(r.entries).toEqual([
      { tag: 'm', tags: { host: 'a', Host: 'b' }, record: { v: 2 }, sec: 0, nsec: 2 },
    ]);
  });

  it('rejects a repeated __proto__ or inherited-name tag key like any other', () => {
    const r = parse(
      ['m,__proto__=a,__proto__=b v=1 1', 'm,toString=a,constructor=b v=2 2'].join('\n'),
    );
    expect(r.errors.map((e) => e.message)).toEqual(['line 1: duplicate tag key __proto__']);
    expect(r.entries.map((e) => e.tags)).toEqual([{ toString: 'a', constructor: 'b' }]);
  });

  it('never reads the inside of a bad line’s quoted string as points of their own', () => {
    // InfluxDB splits lines only at newlines outside quoted field values, so this body is one
    // bad line followed by one good one; resuming at the first newline accepted "evil".
    const text = ['m v=bad,msg="a', 'evil v=1 5', '" 1', 'ok v=2 2'].join('\n');
    const r = parse(text);
    expect(r.entries.map((e) => e.tag)).toEqual(['ok']);
    expect(r.errors.map((e) => e.message)).toEqual(['line 1: invalid field value "bad" for key v']);
    expect(r.errorCount).toBe(1);
  });

  it('numbers lines after a bad multi-line point by the newlines it spans', () => {
    const text = ['m,t= s="x', 'y",v=1 1', 'm v=1 1 2', 'ok v=2 2'].join('\n');
    const r = parse(text);
    expect(r.entries.map((e) => e.tag)).toEqual(['ok']);
    expect(r.errors.map((e) => e.message)).toEqual([
      'line 1: missing tag value for key t',
      'line 3: unexpected text after timestamp',
    ]);
  });

  it('still resumes at the next line after a quote that is never closed', () => {
    const r = parse(['m v="open', 'ok v=1 1'].join('\n'));
    expect(r.entries.map((e) => e.tag)).toEqual(['ok']);
    expect(r.errors.map((e) => e.message)).toEqual(['line 1: unterminated string value for key v']);
  });

  it('keeps error messages short whatever the size of the key', () => {
    const key = 'k'.repeat(100_000);
    const r = parse(
      [`m ${key}=`, `m ${key}=x`, `m,${key} v=1`, `m,${key}=a,${key}=b v=1`].join('\n'),
    );
    expect(r.errorCount).toBe(4);
    for (const e of r.errors) expect(e.message.length).toBeLessThan(200);
  });
});

describe('parseLineProtocol › huge numbers', () => {
  // BigInt() of millions of digits took 3.5 s per 16 MB (a few KB gzipped) and the integer
  // message quoted every digit; no int64 or uint64 has more than 20 significant digits.
  it.each([
    ['timestamp', (d: string) => `m v=1 ${d}`, /^line 1: timestamp 9{61}\.\.\. out of range$/],
    [
      'integer',
      (d: string) => `m v=${d}i 1`,
      /^line 1: integer value 9{61}\.\.\. out of range for key v$/,
    ],
    [
      'unsigned',
      (d: string) => `m v=${d}u 1`,
      /^line 1: unsigned integer value 9{61}\.\.\. out of range for key v$/,
    ],
  ])('refuses a %s of 16 million digits quickly, with a short message', (_kind, line, message) => {
    const started = performance.now();
    const r = parse(line('9'.repeat(16_000_000)));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(r.errors.map((e) => e.message)).toEqual([expect.stringMatching(message)]);
  });

  it('still reads leading zeros as the number they pad', () => {
    const zeros = '0'.repeat(40);
    const r = parse(`m v=${zeros}42i,u=${zeros}7u ${zeros}1700000000000000001`);
    expect(r.errors).toEqual([]);
    expect(r.entries[0]).toMatchObject({ record: { v: 42n, u: 7n }, sec: 1700000000, nsec: 1 });
    expect(parse(`m v=-${zeros}9223372036854775808i 1`).entries[0]?.record.v).toBe(-(2n ** 63n));
    expect(parse(`m v=${zeros}18446744073709551616u 1`).errors[0]?.message).toBe(
      `line 1: unsigned integer value ${zeros}18446744073709551616 out of range for key v`,
    );
  });
});
