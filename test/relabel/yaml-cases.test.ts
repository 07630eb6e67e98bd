/**
 * Runs the user-facing relabel cases under test/testdata/relabel/*.yaml: each rule list must be
 * valid `relabel:` config (checked against the config schema) and produce the stated output, or
 * be refused with the stated key-path error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RelabelSection } from '../../src/config/sections/relabel.ts';
import type { Labels } from '../../src/core/entry.ts';
import { relabel } from '../../src/relabel/relabel.ts';
import { compileRules, type RelabelRuleInput } from '../../src/relabel/rules.ts';

interface YamlCase {
  name: string;
  rules: RelabelRuleInput[];
  input?: Labels;
  output?: Labels | null;
  error?: string;
}

const dir = join(import.meta.dirname, '../testdata/relabel');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('relabel YAML cases', () => {
  it('finds the case files', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  for (const file of files) {
    const cases = parse(readFileSync(join(dir, file), 'utf8')) as YamlCase[];
    describe(file, () => {
      it.each(cases)('$name', (c) => {
        const rules = Value.Default(RelabelSection, structuredClone(c.rules));
        expect([...Value.Errors(RelabelSection, rules)].map((e) => e.message)).toEqual([]);
        if (c.error !== undefined) {
          expect(() => compileRules(c.rules)).toThrow(c.error);
          expect(() => compileRules(c.rules)).toThrow(new RegExp(`^${escapeRegExp(c.error)}`));
          return;
        }
        expect(c).toHaveProperty('output');
        const compiled = compileRules(rules as RelabelRuleInput[]);
        expect(relabel(c.input ?? {}, compiled)).toEqual(c.output);
      });
    });
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
