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
import type { Matcher } from './fast-matcher.ts';
import { isValidLabelName } from './label-name.ts';
import type { CompiledRule } from './rules.ts';

export function relabel(labels: Labels, rules: readonly CompiledRule[]): Labels | null {
  // Copy-on-write: `labels` is only copied by the first rule that changes something; any other
  // object `current` holds was made here and may be written in place. No closures are created
  // per call: under tsx (esbuild keepNames) each one costs a defineProperty.
  let current = labels;
  for (const rule of rules) {
    switch (rule.action) {
      case 'keep':
        if (!rule.matcher.test(joinSource(current, rule.sourceLabels, rule.separator))) return null;
        break;
      case 'drop':
        if (rule.matcher.test(joinSource(current, rule.sourceLabels, rule.separator))) return null;
        break;
      case 'replace': {
        const value = joinSource(current, rule.sourceLabels, rule.separator);
        const match = rule.matchesAll ? wholeMatch(value) : rule.regex.exec(value);
        if (!match) break;
        const target =
          typeof rule.target === 'string' ? rule.target : expandTemplate(rule.target, match);
        if (!isValidLabelName(target)) break;
        current = setLabel(current, labels, target, expandTemplate(rule.replacement, match));
        break;
      }
      case 'lowercase': {
        const value = joinSource(current, rule.sourceLabels, rule.separator).toLowerCase();
        current = setLabel(current, labels, rule.target, value);
        break;
      }
      case 'uppercase': {
        const value = joinSource(current, rule.sourceLabels, rule.separator).toUpperCase();
        current = setLabel(current, labels, rule.target, value);
        break;
      }
      case 'hashmod': {
        const value = memoHashmod(rule, joinSource(current, rule.sourceLabels, rule.separator));
        current = setLabel(current, labels, rule.target, value);
        break;
      }
      case 'labelmap': {
        const snapshot = Object.entries(current).sort(byName);
        for (const [name, value] of snapshot) {
          if (value === '') continue;
          const match = rule.regex.exec(name);
          if (!match) continue;
          const mapped = expandTemplate(rule.replacement, match);
          if (isValidLabelName(mapped)) current = setLabel(current, labels, mapped, value);
        }
        break;
      }
      case 'labeldrop':
        current = withoutMatching(current, rule.matcher, true);
        break;
      case 'labelkeep':
        current = withoutMatching(current, rule.matcher, false);
        break;
    }
  }
  return current;
}

/** Sets `name` (or removes it when `value` is empty), copying `current` if it is the input. */
function setLabel(current: Labels, input: Labels, name: string, value: string): Labels {
  if (value === '') return withoutName(current, name);
  if (current[name] === value && Object.hasOwn(current, name)) return current;
  // Not `{ ...input }`: V8 (Node 20) gives spread copies a shape that makes the keyed store
  // below ~10× slower than on an Object.assign copy (bench/relabel.bench.ts).
  const target = current === input ? Object.assign({}, input) : current;
  target[name] = value;
  return target;
}

function withoutName(labels: Labels, name: string): Labels {
  if (!Object.hasOwn(labels, name)) return labels;
  const kept: Labels = {};
  for (const n of Object.keys(labels)) if (n !== name) kept[n] = labels[n]!;
  return kept;
}

/**
 * `labels` without the names whose match equals `dropWhen`; the same object when none go.
 * Rebuilding instead of `delete` keeps V8's fast properties on the result.
 */
function withoutMatching(labels: Labels, matcher: Matcher, dropWhen: boolean): Labels {
  let kept: Labels | undefined;
  const names = Object.keys(labels);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (matcher.test(name) === dropWhen) {
      if (!kept) {
        kept = {};
        for (let j = 0; j < i; j++) kept[names[j]!] = labels[names[j]!]!;
      }
    } else if (kept) kept[name] = labels[name]!;
  }
  return kept ?? labels;
}

function byName([a]: [string, string], [b]: [string, string]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function memoHashmod(rule: Extract<CompiledRule, { action: 'hashmod' }>, value: string): string {
  const known = rule.memo.values.get(value);
  if (known !== undefined) return known;
  const result = hashmod(value, rule.modulus);
  if (rule.memo.values.size >= rule.memo.limit) rule.memo.values.clear();
  rule.memo.values.set(value, result);
  return result;
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
