// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Prometheus replacement templates are written ${1}, not JS templates
/**
 * Table tests for `relabel()`: Prometheus relabel_config behaviour, case by case.
 * Each case compiles its rules with `compileRules` (the production path) and applies them.
 */
import { describe, expect, it } from 'vitest';
import type { Labels } from '../../src/core/entry.ts';
import { relabel } from '../../src/relabel/relabel.ts';
import { compileRules, type RelabelRuleInput } from '../../src/relabel/rules.ts';

interface Case {
  title: string;
  rules: RelabelRuleInput[];
  input: Labels;
  /** `null` = the entry is dropped. */
  output: Labels | null;
}

const cases: Case[] = [
  // anchoring
  {
    title: 'replace: the regex must match the whole value, not a substring',
    rules: [{ source_labels: ['a'], regex: 'f', target_label: 'b', replacement: 'bar' }],
    input: { a: 'foo' },
    output: { a: 'foo' },
  },
  {
    title: 'replace: a regex matching the whole value sets the target',
    rules: [{ source_labels: ['a'], regex: 'f.*', target_label: 'b', replacement: 'bar' }],
    input: { a: 'foo' },
    output: { a: 'foo', b: 'bar' },
  },
  {
    title: 'keep: an alternation is anchored as a whole (^(?:a|b)$), not per branch',
    rules: [{ action: 'keep', source_labels: ['role'], regex: 'web|api' }],
    input: { role: 'webserver' },
    output: null,
  },
  {
    title: 'replace: `.` also matches a newline (Prometheus wraps the regex in (?s:…))',
    rules: [{ source_labels: ['a'], regex: 'foo.bar', target_label: 'b', replacement: 'hit' }],
    input: { a: 'foo\nbar' },
    output: { a: 'foo\nbar', b: 'hit' },
  },
  // replace
  {
    title: 'replace: joins source labels with the separator and expands groups',
    rules: [
      {
        source_labels: ['a', 'b'],
        separator: '-',
        regex: '(.*)-(.*)',
        target_label: 'c',
        replacement: '$2/$1',
      },
    ],
    input: { a: 'x', b: 'y' },
    output: { a: 'x', b: 'y', c: 'y/x' },
  },
  {
    title: 'replace: default separator is `;` and default replacement is $1',
    rules: [{ source_labels: ['a', 'b'], regex: '(x;y)', target_label: 'c' }],
    input: { a: 'x', b: 'y' },
    output: { a: 'x', b: 'y', c: 'x;y' },
  },
  {
    title: 'replace: a missing source label reads as the empty string',
    rules: [{ source_labels: ['a', 'missing'], target_label: 'c' }],
    input: { a: 'x' },
    output: { a: 'x', c: 'x;' },
  },
  {
    title: 'replace: an empty result deletes the target label',
    rules: [{ source_labels: ['missing'], target_label: 'a' }],
    input: { a: 'x', b: 'y' },
    output: { b: 'y' },
  },
  {
    title: 'replace: an explicitly empty replacement deletes the target label',
    rules: [{ regex: '.*', target_label: 'env', replacement: '' }],
    input: { env: 'prod', role: 'web' },
    output: { role: 'web' },
  },
  {
    title: 'replace: no match leaves the labels untouched',
    rules: [{ source_labels: ['a'], regex: 'z(.*)', target_label: 'a', replacement: 'q' }],
    input: { a: 'abc' },
    output: { a: 'abc' },
  },
  {
    title: 'replace: $1x refers to the group named `1x` (empty), ${1}x to group 1 then x',
    rules: [
      { source_labels: ['a'], regex: '(.*)', target_label: 'b', replacement: '$1x' },
      { source_labels: ['a'], regex: '(.*)', target_label: 'c', replacement: '${1}x' },
    ],
    input: { a: 'v', b: 'old' },
    output: { a: 'v', c: 'vx' },
  },
  {
    title: 'replace: named groups expand with ${name} and $name; $$ is a literal dollar',
    rules: [
      {
        source_labels: ['host'],
        regex: '(?P<role>[a-z]+)-(?P<n>[0-9]+)',
        target_label: 'x',
        replacement: '${role}:$n:$$',
      },
    ],
    input: { host: 'web-12' },
    output: { host: 'web-12', x: 'web:12:$' },
  },
  {
    title: 'replace: the target label can be a template',
    rules: [
      { source_labels: ['a'], regex: '(\\w+)=(\\w+)', target_label: 'k_$1', replacement: '$2' },
    ],
    input: { a: 'env=prod' },
    output: { a: 'env=prod', k_env: 'prod' },
  },
  {
    title: 'replace: a templated target that expands to an invalid name is skipped',
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: '${1}', replacement: 'v' }],
    input: { a: '1-bad' },
    output: { a: '1-bad' },
  },
  {
    title: 'replace: a literal replacement without source labels sets a constant',
    rules: [{ target_label: 'env', replacement: 'prod' }],
    input: { role: 'web' },
    output: { role: 'web', env: 'prod' },
  },
  {
    title: 'replace: the default action is replace and rules apply in order',
    rules: [
      { source_labels: ['a'], target_label: 'b' },
      { source_labels: ['b'], regex: '(.)(.*)', target_label: 'c', replacement: '$2$1' },
    ],
    input: { a: 'abc' },
    output: { a: 'abc', b: 'abc', c: 'bca' },
  },
  // keep / drop
  {
    title: 'keep: keeps an entry whose joined value matches',
    rules: [{ action: 'keep', source_labels: ['role'], regex: 'web|api' }],
    input: { role: 'api' },
    output: { role: 'api' },
  },
  {
    title: 'keep: a missing label is the empty string, which `.+` does not match',
    rules: [{ action: 'keep', source_labels: ['role'], regex: '.+' }],
    input: { version: '1' },
    output: null,
  },
  {
    title: 'keep: a missing label matches a regex that accepts the empty string',
    rules: [{ action: 'keep', source_labels: ['role'], regex: 'web|' }],
    input: { version: '1' },
    output: { version: '1' },
  },
  {
    title: 'drop: drops on a match, including the empty string of a missing label',
    rules: [{ action: 'drop', source_labels: ['role'], regex: '' }],
    input: { version: '1' },
    output: null,
  },
  {
    title: 'drop: keeps an entry that does not match',
    rules: [{ action: 'drop', source_labels: ['role'], regex: 'canary' }],
    input: { role: 'web' },
    output: { role: 'web' },
  },
  {
    title: 'drop: a later rule never runs after a drop',
    rules: [
      { action: 'drop', source_labels: ['role'], regex: 'web' },
      { target_label: 'x', replacement: 'y' },
    ],
    input: { role: 'web' },
    output: null,
  },
  // lowercase / uppercase
  {
    title: 'lowercase: writes the lowercased joined value to the target',
    rules: [{ action: 'lowercase', source_labels: ['a', 'b'], target_label: 'c' }],
    input: { a: 'WeB', b: 'EU' },
    output: { a: 'WeB', b: 'EU', c: 'web;eu' },
  },
  {
    title: 'uppercase: can overwrite its own source',
    rules: [{ action: 'uppercase', source_labels: ['az'], target_label: 'az' }],
    input: { az: 'eu-west-1a' },
    output: { az: 'EU-WEST-1A' },
  },
  {
    title: 'lowercase: an empty source deletes the target',
    rules: [{ action: 'lowercase', source_labels: ['missing'], target_label: 'a' }],
    input: { a: 'x' },
    output: {},
  },
  // hashmod
  {
    title: 'hashmod: md5, last 8 bytes big-endian, mod 1000 ("baz" → 976 as in Prometheus)',
    rules: [{ action: 'hashmod', source_labels: ['c'], target_label: 'd', modulus: 1000 }],
    input: { a: 'foo', c: 'baz' },
    output: { a: 'foo', c: 'baz', d: '976' },
  },
  {
    title: 'hashmod: hashes a value containing a newline ("foo\\nbar" → 734)',
    rules: [{ action: 'hashmod', source_labels: ['a'], target_label: 'b', modulus: 1000 }],
    input: { a: 'foo\nbar' },
    output: { a: 'foo\nbar', b: '734' },
  },
  {
    title: 'hashmod: hashes the joined value and shards with keep',
    rules: [
      { action: 'hashmod', source_labels: ['a', 'b'], target_label: '__tmp', modulus: 4 },
      { action: 'keep', source_labels: ['__tmp'], regex: '2' },
      { action: 'labeldrop', regex: '__tmp' },
    ],
    // md5("x;y") last 8 bytes mod 4 = 2
    input: { a: 'x', b: 'y' },
    output: { a: 'x', b: 'y' },
  },
  {
    title: 'hashmod: a huge modulus keeps the full uint64 precision (md5("baz")[8:] = e44c…6e88)',
    rules: [{ action: 'hashmod', source_labels: ['c'], target_label: 'd', modulus: 2 ** 53 - 1 }],
    input: { c: 'baz' },
    output: { c: 'baz', d: String(0xe44cf984c85f6e88n % BigInt(2 ** 53 - 1)) },
  },
  // labelmap
  {
    title: 'labelmap: copies matching labels under the ${1} name, keeping the originals',
    rules: [{ action: 'labelmap', regex: 'tag_(.+)', replacement: '${1}' }],
    input: { tag_env: 'prod', tag_team: 'core', role: 'web' },
    output: { tag_env: 'prod', tag_team: 'core', role: 'web', env: 'prod', team: 'core' },
  },
  {
    title: 'labelmap: the regex is anchored on the label name',
    rules: [{ action: 'labelmap', regex: 'b(.*)', replacement: 'bar_${1}' }],
    input: { a: 'foo', b1: 'bar', ab: 'no' },
    output: { a: 'foo', b1: 'bar', ab: 'no', bar_1: 'bar' },
  },
  {
    title: 'labelmap: the default replacement $1 is the first group',
    rules: [{ action: 'labelmap', regex: '__meta_ec2_tag_(.+)' }],
    input: { __meta_ec2_tag_Role: 'web' },
    output: { __meta_ec2_tag_Role: 'web', Role: 'web' },
  },
  {
    title: 'labelmap then labeldrop renames labels',
    rules: [
      { action: 'labelmap', regex: 'old_(.*)', replacement: 'new_$1' },
      { action: 'labeldrop', regex: 'old_.*' },
    ],
    input: { old_a: '1', old_b: '2', c: '3' },
    output: { new_a: '1', new_b: '2', c: '3' },
  },
  // labeldrop / labelkeep
  {
    title: 'labeldrop: drops labels whose whole name matches',
    rules: [{ action: 'labeldrop', regex: 'instance|host.*' }],
    input: { instance: 'i-1', hostname: 'h', role: 'web', xinstance: 'keep' },
    output: { role: 'web', xinstance: 'keep' },
  },
  {
    title: 'labelkeep: keeps only labels whose whole name matches',
    rules: [{ action: 'labelkeep', regex: 'role|version|slot' }],
    input: { role: 'web', version: '1.2', slot: '0', instance_id: 'i-1', roles: 'x' },
    output: { role: 'web', version: '1.2', slot: '0' },
  },
  {
    title: 'labelkeep: the name regex is case-sensitive unless it starts with (?i)',
    rules: [{ action: 'labelkeep', regex: '(?i)ROLE' }],
    input: { role: 'web', Role: 'api', version: '1' },
    output: { role: 'web', Role: 'api' },
  },
];

describe('relabel', () => {
  it.each(cases)('$title', ({ rules, input, output }) => {
    const frozen = Object.freeze({ ...input });
    expect(relabel(frozen, compileRules(rules))).toEqual(output);
    expect(frozen).toEqual(input);
  });

  it('returns the same object when no rule changes anything', () => {
    const labels = { role: 'web' };
    const rules = compileRules([{ action: 'keep', source_labels: ['role'], regex: 'web' }]);
    expect(relabel(labels, rules)).toBe(labels);
  });

  it('returns the input unchanged for an empty rule list', () => {
    const labels = { role: 'web' };
    expect(relabel(labels, [])).toBe(labels);
  });

  it('reads inherited object properties as missing labels', () => {
    const rules = compileRules([{ source_labels: ['constructor'], target_label: 'c' }]);
    expect(relabel({ a: 'x' }, rules)).toEqual({ a: 'x' });
  });

  it('distributes hashmod evenly enough to shard by it', () => {
    const rules = compileRules([
      { action: 'hashmod', source_labels: ['id'], target_label: 'shard', modulus: 4 },
    ]);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const out = relabel({ id: `i-${i.toString(16).padStart(17, '0')}` }, rules);
      counts[Number(out?.shard)]! += 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
});
