/** The regex-free fast paths must mean exactly what the anchored regex means. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastMatcher } from '../../src/relabel/fast-matcher.ts';
import { translateRe2 } from '../../src/relabel/re2-to-js.ts';

const compile = (re2: string) => {
  const { source, flags } = translateRe2(re2);
  return new RegExp(source, flags);
};

const patterns = [
  '.*',
  '(.*)',
  '.+',
  '(.+)',
  'web',
  'web|api|worker',
  'web|',
  '',
  'tmp_.*',
  '(tmp_|old_).*',
  'a|b.*',
  'a\\.*',
  'x.y',
  'instance_id|host',
  '(?i)web',
  '[a-z]+',
];
const values = [
  '',
  'web',
  'WEB',
  'api',
  'webx',
  'tmp_a',
  'old_b',
  'a',
  'b',
  'bzz',
  'a...',
  'a\nb',
  'x.y',
  'xzy',
  'host',
  'instance_id',
];

describe('fastMatcher', () => {
  it.each(patterns)('agrees with the anchored regex for %j', (pattern) => {
    const regex = compile(pattern);
    const fast = fastMatcher(pattern, regex);
    for (const v of values) expect([v, fast.test(v)]).toEqual([v, regex.test(v)]);
  });

  it('agrees with the regex on arbitrary strings for literal alternations and prefixes', () => {
    const literal = fc.stringMatching(/^[a-z_:-]{0,6}$/);
    fc.assert(
      fc.property(
        fc.array(literal, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.string(),
        (alts, prefix, value) => {
          const pattern = prefix ? `(${alts.join('|')}).*` : alts.join('|');
          const regex = compile(pattern);
          expect(fastMatcher(pattern, regex).test(value)).toBe(regex.test(value));
          expect(fastMatcher(pattern, regex).test(alts[0]!)).toBe(regex.test(alts[0]!));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('falls back to the regex for anything else', () => {
    const regex = compile('[a-z]+');
    expect(fastMatcher('[a-z]+', regex)).toBe(regex);
  });
});
