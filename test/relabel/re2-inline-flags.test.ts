/** Inline flag groups in the middle of an RE2 pattern. */
import { describe, expect, it } from 'vitest';
import { translateRe2 } from '../../src/relabel/re2-to-js.ts';

const matcher = (pattern: string) => {
  const { source, flags } = translateRe2(pattern);
  const re = new RegExp(source, flags);
  return (v: string) => re.test(v);
};

describe('re2 inline flags', () => {
  it.each([
    ['foo(?s)bar', 'foobar', true],
    ['foo(?s)bar', 'fooBAR', false],
    ['foo(?s:bar)', 'fooBAR', false],
    ['(x(?s)y)z', 'xYz', false],
    ['foo(?i)bar', 'fooBAR', true],
    ['foo(?i)bar', 'FOObar', false],
    ['foo(?si)bar', 'fooBAR', true],
  ])('%s on %s → %s', (pattern, value, expected) => {
    expect(matcher(pattern)(value)).toBe(expected);
  });
});
