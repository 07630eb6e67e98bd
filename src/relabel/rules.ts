/**
 * Compiles `relabel:` config rules once, at start-up, into the form `relabel()` applies per
 * record. Validation follows Prometheus's `relabel_config` checks (target_label required for
 * replace/hashmod/lowercase/uppercase, modulus for hashmod, labeldrop/labelkeep take only a
 * regex, …) and reports every problem at once, each with its key path, e.g.
 * `relabel[2].regex: invalid regular expression …`.
 *
 * Regexes are RE2 syntax translated to JS (see re2-to-js.ts) and fully anchored.
 */
import type { RelabelRuleConfig } from '../config/schema.ts';
import { RelabelConfigError } from './errors.ts';
import { isLiteralTemplate, parseTemplate, type TemplatePart } from './expand-template.ts';
import { fastMatcher, type Matcher } from './fast-matcher.ts';
import { isValidLabelName, isValidLabelNameTemplate } from './label-name.ts';
import { translateRe2 } from './re2-to-js.ts';

export type RelabelAction = RelabelRuleConfig['action'];

/** One rule as written; omitted fields take Prometheus's defaults. */
export type RelabelRuleInput = {
  [K in keyof RelabelRuleConfig]?: K extends 'action' ? string : RelabelRuleConfig[K];
};

interface Source {
  sourceLabels: readonly string[];
  separator: string;
}

/** A compiled rule. Immutable apart from the hashmod memo; safe to share between callers. */
export type CompiledRule =
  | ({ action: 'keep' | 'drop'; matcher: Matcher } & Source)
  | ({
      action: 'replace';
      regex: RegExp;
      /** The regex is the default `(.*)`: the match is the value itself, no regex needed. */
      matchesAll: boolean;
      /** Literal target name, or the parsed template when it references groups. */
      target: string | TemplatePart[];
      replacement: TemplatePart[];
    } & Source)
  | ({ action: 'lowercase' | 'uppercase'; target: string } & Source)
  | ({ action: 'hashmod'; target: string; modulus: bigint; memo: HashmodMemo } & Source)
  | { action: 'labelmap'; regex: RegExp; replacement: TemplatePart[] }
  | { action: 'labeldrop' | 'labelkeep'; matcher: Matcher };

/**
 * Recent hashmod results of one rule. md5 costs microseconds per call, and the hashed values
 * (instance ids, roles) repeat across records; the memo is bounded and does not change
 * results, so `relabel()` stays pure in every observable way.
 */
export interface HashmodMemo {
  readonly values: Map<string, string>;
  readonly limit: number;
}

const ACTIONS: readonly RelabelAction[] = [
  'replace',
  'keep',
  'drop',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
  'hashmod',
];

const DEFAULTS = { separator: ';', regex: '(.*)', replacement: '$1' } as const;

/**
 * Compiles rules in order. Throws `RelabelConfigError` listing every invalid rule;
 * `keyPath` is the config path of the list (`relabel` unless embedded elsewhere).
 */
export function compileRules(
  rules: readonly RelabelRuleInput[],
  keyPath = 'relabel',
): CompiledRule[] {
  const problems: string[] = [];
  const compiled: CompiledRule[] = [];
  rules.forEach((rule, index) => {
    const rulePath = `${keyPath}[${index}]`;
    const result = compileRule(rule, (key, message) =>
      problems.push(`${rulePath}${key ? `.${key}` : ''}: ${message}`),
    );
    if (result) compiled.push(result);
  });
  if (problems.length > 0) throw new RelabelConfigError(problems);
  return compiled;
}

type Report = (key: string, message: string) => void;

function compileRule(rule: RelabelRuleInput, reportTo: Report): CompiledRule | undefined {
  let invalid = false;
  const report: Report = (key, message) => {
    invalid = true;
    reportTo(key, message);
  };
  const action = (rule.action ?? 'replace').toLowerCase() as RelabelAction;
  if (!ACTIONS.includes(action)) {
    report(
      'action',
      `unknown action ${JSON.stringify(rule.action)} (one of ${ACTIONS.join(', ')})`,
    );
    return undefined;
  }
  const sourceLabels = rule.source_labels ?? [];
  const separator = rule.separator ?? DEFAULTS.separator;
  const regexText = rule.regex ?? DEFAULTS.regex;
  const replacementText = rule.replacement ?? DEFAULTS.replacement;
  const target = rule.target_label;
  const regex = compileRegex(regexText, report);
  const source: Source = { sourceLabels, separator };

  const needsTarget =
    action === 'replace' ||
    action === 'hashmod' ||
    action === 'lowercase' ||
    action === 'uppercase';
  if (needsTarget && !target) report('target_label', `required for action ${action}`);
  if (action === 'hashmod' && rule.modulus === undefined)
    report('modulus', 'required (a positive integer) for action hashmod');
  if (action !== 'hashmod' && rule.modulus !== undefined)
    report('modulus', `only valid for action hashmod, not ${action}`);
  if (target && action === 'replace' && !isValidTargetTemplate(target))
    report('target_label', `${JSON.stringify(target)} is not a valid label name or template`);
  if (target && (action === 'hashmod' || action === 'lowercase' || action === 'uppercase')) {
    if (!isValidLabelName(target))
      report('target_label', `${JSON.stringify(target)} is not a valid label name`);
  }
  if ((action === 'lowercase' || action === 'uppercase') && replacementText !== '$1')
    report('replacement', `cannot be set for action ${action}`);
  if (action === 'labelmap' && !isValidLabelNameTemplate(replacementText))
    report('replacement', `${JSON.stringify(replacementText)} is not a valid label name template`);
  if (action === 'labeldrop' || action === 'labelkeep') {
    const extra = [
      sourceLabels.length > 0 && 'source_labels',
      target !== undefined && 'target_label',
      rule.modulus !== undefined && 'modulus',
      separator !== DEFAULTS.separator && 'separator',
      replacementText !== DEFAULTS.replacement && 'replacement',
    ].filter(Boolean);
    if (extra.length > 0)
      report('action', `action ${action} takes only regex, not ${extra.join(', ')}`);
  }
  if (invalid || !regex) return undefined;

  switch (action) {
    case 'keep':
    case 'drop':
      return { action, matcher: fastMatcher(regexText, regex), ...source };
    case 'replace':
      return {
        action,
        regex,
        matchesAll: regexText === DEFAULTS.regex,
        target: targetOf(target!),
        replacement: parseTemplate(replacementText),
        ...source,
      };
    case 'lowercase':
    case 'uppercase':
      return { action, target: target!, ...source };
    case 'hashmod':
      return {
        action,
        target: target!,
        modulus: BigInt(rule.modulus!),
        memo: { values: new Map(), limit: 4096 },
        ...source,
      };
    case 'labelmap':
      return { action, regex, replacement: parseTemplate(replacementText) };
    case 'labeldrop':
    case 'labelkeep':
      return { action, matcher: fastMatcher(regexText, regex) };
  }
}

function compileRegex(text: string, report: Report): RegExp | undefined {
  try {
    const { source, flags } = translateRe2(text);
    return new RegExp(source, flags);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    report('regex', `invalid regular expression ${JSON.stringify(text)}: ${reason}`);
    return undefined;
  }
}

function isValidTargetTemplate(target: string): boolean {
  return target.includes('$') ? isValidLabelNameTemplate(target) : isValidLabelName(target);
}

function targetOf(target: string): string | TemplatePart[] {
  const parts = parseTemplate(target);
  return isLiteralTemplate(parts) ? parts.join('') : parts;
}
