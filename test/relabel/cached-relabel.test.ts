/** `createCachedRelabel`: same results as `relabel()`, computed once per frozen label object. */
import { describe, expect, it } from 'vitest';
import { createCachedRelabel } from '../../src/relabel/cached-relabel.ts';
import { compileRules } from '../../src/relabel/rules.ts';

describe('createCachedRelabel', () => {
  const rules = compileRules([
    { action: 'drop', source_labels: ['role'], regex: 'canary' },
    { action: 'uppercase', source_labels: ['az'], target_label: 'az' },
  ]);

  it('returns the same frozen result object for the same frozen input', () => {
    const relabel = createCachedRelabel(rules);
    const input = Object.freeze({ role: 'web', az: 'eu-west-1a' });
    const first = relabel(input);
    expect(first).toEqual({ role: 'web', az: 'EU-WEST-1A' });
    expect(Object.isFrozen(first)).toBe(true);
    expect(relabel(input)).toBe(first);
  });

  it('caches a drop as null', () => {
    const relabel = createCachedRelabel(rules);
    const input = Object.freeze({ role: 'canary' });
    expect(relabel(input)).toBeNull();
    expect(relabel(input)).toBeNull();
  });

  it('never caches a mutable input, so a changed object gets a fresh result', () => {
    const relabel = createCachedRelabel(rules);
    const input: Record<string, string> = { role: 'web', az: 'a' };
    expect(relabel(input)).toEqual({ role: 'web', az: 'A' });
    input.az = 'b';
    expect(relabel(input)).toEqual({ role: 'web', az: 'B' });
    input.role = 'canary';
    expect(relabel(input)).toBeNull();
  });
});
