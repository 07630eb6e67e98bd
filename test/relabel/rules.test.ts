/** `compileRules`: validation with key paths, and RE2 syntax translated to JS. */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/core/errors.ts';
import { RelabelConfigError } from '../../src/relabel/errors.ts';
import { relabel } from '../../src/relabel/relabel.ts';
import { compileRules, type RelabelRuleInput } from '../../src/relabel/rules.ts';

function problemsOf(rules: RelabelRuleInput[]): string[] {
  try {
    compileRules(rules);
  } catch (err) {
    expect(err).toBeInstanceOf(RelabelConfigError);
    return [...(err as RelabelConfigError).problems];
  }
  throw new Error('expected compileRules to throw');
}

describe('compileRules', () => {
  it('prefixes a bad regex with its key path', () => {
    const rules: RelabelRuleInput[] = [
      { target_label: 'a', replacement: 'x' },
      { action: 'keep', source_labels: ['a'], regex: 'ok' },
      { action: 'keep', source_labels: ['a'], regex: '(unclosed' },
    ];
    expect(() => compileRules(rules)).toThrow(/^relabel\[2\]\.regex: invalid regular expression/);
  });

  it('is a permanent (not retryable) error', () => {
    try {
      compileRules([{ action: 'drop', regex: '[' }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).retryable).toBe(false);
    }
  });

  it('reports every problem of every rule at once', () => {
    expect(
      problemsOf([
        { action: 'replace', source_labels: ['a'] },
        { action: 'hashmod', source_labels: ['a'], target_label: 'b' },
        { action: 'bogus' },
        { action: 'keep', regex: '(?=x)' },
      ]),
    ).toEqual([
      'relabel[0].target_label: required for action replace',
      'relabel[1].modulus: required (a positive integer) for action hashmod',
      expect.stringMatching(/^relabel\[2\]\.action: unknown action "bogus"/),
      expect.stringMatching(/^relabel\[3\]\.regex: .*lookaround assertions are not supported/),
    ]);
  });

  it('uses the key path it is given', () => {
    expect(() => compileRules([{ action: 'drop', regex: '(' }], 'pipeline.relabel')).toThrow(
      /^pipeline\.relabel\[0\]\.regex: /,
    );
  });

  it.each<[string, RelabelRuleInput, RegExp]>([
    ['a target_label that is not a label name', { target_label: '1abc' }, /target_label: "1abc"/],
    [
      'a target_label template with characters outside label names',
      { target_label: 'a-$1' },
      /target_label: "a-\$1" is not a valid label name or template/,
    ],
    [
      'lowercase without target_label',
      { action: 'lowercase', source_labels: ['a'] },
      /target_label: required for action lowercase/,
    ],
    [
      'uppercase with a replacement',
      { action: 'uppercase', source_labels: ['a'], target_label: 'b', replacement: 'x' },
      /replacement: cannot be set for action uppercase/,
    ],
    [
      'hashmod with an invalid target',
      { action: 'hashmod', source_labels: ['a'], target_label: 'a.b', modulus: 2 },
      /target_label: "a.b" is not a valid label name/,
    ],
    ['modulus on a non-hashmod rule', { target_label: 'a', modulus: 3 }, /modulus: only valid/],
    [
      'labeldrop with source_labels',
      { action: 'labeldrop', regex: 'a', source_labels: ['a'] },
      /action labeldrop takes only regex, not source_labels/,
    ],
    [
      'labelkeep with a replacement and a separator',
      { action: 'labelkeep', regex: 'a', replacement: 'b', separator: ',' },
      /takes only regex, not separator, replacement/,
    ],
    [
      'labelmap with a replacement that cannot be a label name',
      { action: 'labelmap', regex: '(.*)', replacement: 'a.$1' },
      /replacement: "a.\$1" is not a valid label name template/,
    ],
    ['a backreference (RE2 has none)', { action: 'drop', regex: '(a)\\1' }, /backreferences/],
    [
      'a scoped multi-line flag',
      { action: 'drop', regex: 'a(?m:b)' },
      /only the i and s inline flags/,
    ],
    ['the ungreedy flag', { action: 'drop', regex: '(?U)a*' }, /ungreedy/],
  ])('rejects %s', (_title, rule, message) => {
    const problems = problemsOf([rule]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^relabel\[0\]\./);
    expect(problems[0]).toMatch(message);
  });

  it('accepts actions in any case, as Prometheus does', () => {
    const rules = compileRules([{ action: 'KEEP', source_labels: ['a'], regex: 'x' }]);
    expect(relabel({ a: 'x' }, rules)).toEqual({ a: 'x' });
    expect(relabel({ a: 'y' }, rules)).toBeNull();
  });
});

describe('compileRules › RE2 syntax', () => {
  const matches = (regex: string, value: string) =>
    relabel({ v: value }, compileRules([{ action: 'keep', source_labels: ['v'], regex }])) !== null;

  it.each<[string, string, string, boolean]>([
    ['(?P<name>…) named group', '(?P<x>a+)b', 'aab', true],
    ['(?i) leading flag', '(?i)web-[a-z]+', 'WEB-Blue', true],
    ['case-sensitive by default', 'web', 'WEB', false],
    ['\\A and \\z anchors', '\\Aab\\z', 'ab', true],
    ['\\Q…\\E quoting', '\\Qa.b*\\E', 'a.b*', true],
    ['\\Q…\\E quoting is literal', '\\Qa.b\\E', 'axb', false],
    ['a lone { as a literal', 'a{b', 'a{b', true],
    ['a real repetition', 'a{2,3}', 'aaa', true],
    ['a real repetition bound', 'a{2,3}', 'aaaa', false],
    ['a lone } and ] as literals', 'a}]', 'a}]', true],
    ['an escaped non-syntax punctuation', '\\#\\-\\@', '#-@', true],
    ['] first in a class', '[]a]+', ']a]', true],
    ['[[:alpha:]] POSIX class', '[[:alpha:]]+[[:digit:]]', 'abc1', true],
    ['\\pL and \\p{Greek}', '\\pL+\\p{Greek}', 'aλ', true],
    ['\\x{263a}', '\\x{263a}', '☺', true],
    ['\\s is ASCII whitespace only', 'a\\sb', 'a\u00a0b', false],
    ['\\s matches a tab', 'a\\sb', 'a\tb', true],
    ['(?m) keeps the whole-value anchoring', '(?m)^b$', 'a\nb', false],
    ['(?m) makes inner ^ and $ line anchors', '(?m)a$\\n^b', 'a\nb', true],
    ['a slash needs no escaping', 'a/b', 'a/b', true],
    ['(?i:…) scoped case-insensitivity', 'a(?i:b)c', 'aBc', true],
    ['(?i:…) stays inside its group', 'a(?i:b)c', 'ABc', false],
    ['(?i:…) with a class range', '(?i:[a-c]x)', 'BX', true],
    ['(?i:…) with a negated class', '(?i:[^a])', 'A', false],
    ['(?i) mid-pattern applies to the rest of its group', 'web(?i)-PROD', 'web-prod', true],
    ['(?i) mid-pattern does not reach back', 'web(?i)-PROD', 'WEB-prod', false],
    ['(?i) mid-group ends with the group', '(a(?i)b)c', 'aBc', true],
    ['(?i) mid-group ends with the group (after)', '(a(?i)b)c', 'aBC', false],
    ['(?s:…) is accepted (always on)', '(?s:a.b)', 'a\nb', true],
  ])('translates %s', (_title, regex, value, expected) => {
    expect(matches(regex, value)).toBe(expected);
  });
});
