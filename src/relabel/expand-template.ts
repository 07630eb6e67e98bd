/**
 * Replacement templates (`replacement`, and `target_label` of `replace`) expanded exactly as
 * Go's `Regexp.Expand`, which Prometheus uses:
 * - `$$` is a literal `$`;
 * - `$name` / `${name}`: name is the longest run of letters, digits and `_`, so `$1x` is the
 *   group *named* `1x` (usually empty), not group 1 followed by `x` — write `${1}x` for that;
 * - an all-digit name is a group number (a leading zero makes it a name again);
 * - a group that does not exist or did not participate expands to the empty string;
 * - a `$` not followed by a valid name (or `${` without its `}`) is a literal `$`.
 * Parsing happens once per rule; expansion is a join over the parts.
 */

export type TemplatePart = string | { group: number } | { name: string };

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** Parses a template into literal strings and group references. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      literal += '$';
      i++;
      continue;
    }
    const ref = readReference(template, i);
    if (!ref) {
      literal += '$';
      continue;
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push(ref.part);
    i = ref.next;
  }
  if (literal) parts.push(literal);
  return parts;
}

function readReference(t: string, start: number): { part: TemplatePart; next: number } | null {
  const brace = t[start] === '{';
  let i = brace ? start + 1 : start;
  const nameStart = i;
  for (const ch of t.slice(nameStart)) {
    if (!NAME_CHAR.test(ch)) break;
    i += ch.length;
  }
  if (i === nameStart) return null;
  const name = t.slice(nameStart, i);
  if (brace) {
    if (t[i] !== '}') return null;
    i++;
  }
  const numeric = /^[0-9]+$/.test(name) && !(name.length > 1 && name.startsWith('0'));
  // Go stops treating very long digit runs as numbers; they then name a (missing) group.
  if (numeric && name.length <= 9) return { part: { group: Number(name) }, next: i };
  return { part: { name }, next: i };
}

/** True when the template has no references, so expansion is the literal itself. */
export function isLiteralTemplate(parts: readonly TemplatePart[]): boolean {
  return parts.every((p) => typeof p === 'string');
}

/** Expands parsed parts against a match (`exec` result). */
export function expandTemplate(parts: readonly TemplatePart[], match: RegExpExecArray): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if ('group' in part) out += match[part.group] ?? '';
    else out += match.groups?.[part.name] ?? '';
  }
  return out;
}
