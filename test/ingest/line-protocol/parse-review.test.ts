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
