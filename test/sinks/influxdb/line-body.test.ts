/**
 * A body keeps its lines as UTF-8 bytes plus where each ends: the bytes of any run of lines
 * must equal those lines joined with newlines, and each line must come back as its text, even
 * when a line holds a raw newline (a string field may) or characters of several bytes.
 */
import { describe, expect, it } from 'vitest';
import { LineBody } from '../../../src/sinks/influxdb/line-body.ts';

const LINES = [
  'cpu,host=a value=1i 1',
  'log msg="two\nlines" 2',
  'mem,host=é free=3i 3',
  'log msg="雪 ☃ 𝄞" 4',
  'cpu,host=b value=5i 5',
];
const MEASUREMENTS = ['cpu', 'log', 'mem', 'log', 'cpu'];

describe('line body', () => {
  it('gives the bytes of any span as the joined lines, and each line back', () => {
    const body = new LineBody();
    for (let i = 0; i < LINES.length; i++) body.push(LINES[i]!, MEASUREMENTS[i]!);
    expect(body.count).toBe(LINES.length);
    for (let lo = 0; lo < LINES.length; lo++)
      for (let hi = lo + 1; hi <= LINES.length; hi++)
        expect(body.bytes({ lo, hi }).toString('utf8')).toBe(LINES.slice(lo, hi).join('\n'));
    LINES.forEach((line, i) => {
      expect(body.line(i)).toBe(line);
      expect(body.measurement(i)).toBe(MEASUREMENTS[i]);
    });
  });

  it('keeps byte offsets right past its first offset table, ASCII or not', () => {
    const body = new LineBody();
    const lines = Array.from({ length: 3000 }, (_, i) => `m v="${'x'.repeat(i % 700)}" ${i}`);
    for (const l of lines) body.push(l, 'm');
    expect(body.line(1234)).toBe(lines[1234]);
    expect(body.bytes({ lo: 0, hi: lines.length }).equals(Buffer.from(lines.join('\n')))).toBe(
      true,
    );
    expect(body.line(2999)).toBe(lines[2999]);
    const mixed = new LineBody();
    const more = lines.map((l, i) => (i % 1000 === 999 ? `${l}ü` : l));
    for (const l of more) mixed.push(l, 'm');
    expect(
      mixed.bytes({ lo: 1, hi: 2999 }).equals(Buffer.from(more.slice(1, 2999).join('\n'))),
    ).toBe(true);
    expect(mixed.line(2999)).toBe(more[2999]);
    expect(() => mixed.push('m v=1i 1', 'm')).toThrow(/sealed/);
  });

  it('counts lines per measurement in a span, leaving out the skipped ones', () => {
    const body = new LineBody();
    for (let i = 0; i < LINES.length; i++) body.push(LINES[i]!, MEASUREMENTS[i]!);
    expect([...body.countByMeasurement({ lo: 0, hi: 5 }, new Set())]).toEqual([
      ['cpu', 2],
      ['log', 2],
      ['mem', 1],
    ]);
    expect([...body.countByMeasurement({ lo: 1, hi: 4 }, new Set([3]))]).toEqual([
      ['log', 1],
      ['mem', 1],
    ]);
    const runs = new LineBody();
    for (let i = 0; i < 10; i++) runs.push(`a v=${i}i`, i < 7 ? 'a' : 'b');
    expect([...runs.countByMeasurement({ lo: 2, hi: 9 }, new Set([2, 8]))]).toEqual([
      ['a', 4],
      ['b', 1],
    ]);
    expect(runs.measurement(6)).toBe('a');
    expect(runs.measurement(7)).toBe('b');
  });
});
