/**
 * Applies compiled relabel rules to one label set, with Prometheus `relabel_config` semantics.
 * Pure: no I/O, never mutates `labels`; returns `null` when a keep/drop rule drops the entry.
 * When no rule changes anything the input object itself is returned, so callers must treat
 * the result as read-only too.
 *
 * As in Prometheus, a missing label reads as the empty string, and setting a label to the empty
 * string removes it. labelmap/labeldrop/labelkeep look at the labels as they were when the rule
 * started, visiting names in sorted order (so of two names labelmap maps to the same target,
 * the later in sort order wins).
 */
import { createHash } from 'node:crypto';
import type { Labels } from '../core/entry.ts';
import { expandTemplate } from './expand-template.ts';
import { isValidLabelName } from './label-name.ts';
import type { CompiledRule } from './rules.ts';

export function relabel(labels: Labels, rules: readonly CompiledRule[]): Labels | null {
  // Copy-on-write: the input is only copied by the first rule that changes something.
  let current = labels;
  let owned = false;
  const set = (name: string, value: string): void => {
    if (value === '') {
      remove(name);
      return;
    }
    if (current[name] === value && Object.hasOwn(current, name)) return;
    if (!owned) {
      current = { ...current };
      owned = true;
    }
    current[name] = value;
  };
  const remove = (name: string): void => {
    if (!Object.hasOwn(current, name)) return;
    if (!owned) {
      current = { ...current };
      owned = true;
    }
    delete current[name];
  };

  for (const rule of rules) {
    switch (rule.action) {
      case 'keep':
        if (!rule.regex.test(joinSource(current, rule.sourceLabels, rule.separator))) return null;
        break;
      case 'drop':
        if (rule.regex.test(joinSource(current, rule.sourceLabels, rule.separator))) return null;
        break;
      case 'replace': {
        const value = joinSource(current, rule.sourceLabels, rule.separator);
        const match = rule.matchesAll ? wholeMatch(value) : rule.regex.exec(value);
        if (!match) break;
        const target =
          typeof rule.target === 'string' ? rule.target : expandTemplate(rule.target, match);
        if (!isValidLabelName(target)) break;
        set(target, expandTemplate(rule.replacement, match));
        break;
      }
      case 'lowercase':
        set(rule.target, joinSource(current, rule.sourceLabels, rule.separator).toLowerCase());
        break;
      case 'uppercase':
        set(rule.target, joinSource(current, rule.sourceLabels, rule.separator).toUpperCase());
        break;
      case 'hashmod':
        set(
          rule.target,
          hashmod(joinSource(current, rule.sourceLabels, rule.separator), rule.modulus),
        );
        break;
      case 'labelmap': {
        const snapshot = Object.entries(current).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        for (const [name, value] of snapshot) {
          if (value === '') continue;
          const match = rule.regex.exec(name);
          if (!match) continue;
          const mapped = expandTemplate(rule.replacement, match);
          if (isValidLabelName(mapped)) set(mapped, value);
        }
        break;
      }
      case 'labeldrop':
        for (const name of Object.keys(current)) if (rule.regex.test(name)) remove(name);
        break;
      case 'labelkeep':
        for (const name of Object.keys(current)) if (!rule.regex.test(name)) remove(name);
        break;
    }
  }
  return current;
}

function read(labels: Labels, name: string): string {
  const value = labels[name];
  // `typeof` guards against inherited names such as `constructor`.
  return typeof value === 'string' ? value : '';
}

function joinSource(labels: Labels, names: readonly string[], separator: string): string {
  if (names.length === 1) return read(labels, names[0]!);
  let joined = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) joined += separator;
    joined += read(labels, names[i]!);
  }
  return joined;
}

/** The match `^(?s:(.*))$` always produces: group 0 and group 1 are the whole value. */
function wholeMatch(value: string): RegExpExecArray {
  const match = [value, value] as unknown as RegExpExecArray;
  match.index = 0;
  match.input = value;
  return match;
}

/**
 * Prometheus: md5 of the value, the *last* 8 bytes of the digest read as a big-endian uint64,
 * modulo `modulus` (it keeps the result earlier Prometheus versions produced).
 */
export function hashmod(value: string, modulus: bigint): string {
  const digest = createHash('md5').update(value, 'utf8').digest();
  return (digest.readBigUInt64BE(8) % modulus).toString();
}
