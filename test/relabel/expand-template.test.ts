// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Prometheus replacement templates are written ${1}, not JS templates
/** Replacement templates expand exactly as Go's `Regexp.Expand`. */
import { describe, expect, it } from 'vitest';
import { expandTemplate, parseTemplate } from '../../src/relabel/expand-template.ts';

const match = (re: RegExp, s: string) => {
  const m = re.exec(s);
  if (!m) throw new Error('no match');
  return m;
};

describe('expandTemplate', () => {
  const m = match(/^(?<first>a+)(b+)(?<x1>c*)(z)?$/u, 'aabbc');

  it.each<[string, string]>([
    ['$1', 'aa'],
    ['${1}', 'aa'],
    ['$0', 'aabbc'],
    ['$2-$1', 'bb-aa'],
    ['$1x', ''],
    ['${1}x', 'aax'],
    ['$x1', 'c'],
    ['${first}!', 'aa!'],
    ['$first', 'aa'],
    ['$missing', ''],
    ['$9', ''],
    ['$4', ''],
    ['$01', ''],
    ['$$1', '$1'],
    ['a$', 'a$'],
    ['$-', '$-'],
    ['${1', '${1'],
    ['${}', '${}'],
    ['literal', 'literal'],
    ['', ''],
  ])('%j expands to %j', (template, want) => {
    expect(expandTemplate(parseTemplate(template), m)).toBe(want);
  });

  it('parses a template without references into one literal part', () => {
    expect(parseTemplate('prod$$')).toEqual(['prod$']);
  });
});
