/**
 * Translates an RE2 (Go `regexp`) pattern, as Prometheus users write them in `relabel_config`,
 * into an equivalent JavaScript `RegExp`, anchored the way Prometheus anchors them:
 * `^(?s:<pattern>)$` (the whole value must match, and `.` also matches a newline).
 *
 * JS and RE2 agree on most syntax; this file handles where they differ:
 * - `(?P<name>…)` becomes `(?<name>…)`; `\A` / `\z` become text anchors; `\Q…\E` is quoted.
 * - A leading flag group `(?i)`, `(?s)`, `(?m)` becomes a RegExp flag. Node 20 has no inline
 *   modifiers, so a scoped `(?i:…)` or a mid-pattern `(?i)` is spelled out: letters become
 *   `[aA]`, class letters and same-case ranges get their other case. `(?s…)` is a no-op
 *   (always on); `m` and `U` anywhere but the leading group are rejected.
 * - RE2 treats a `{` that does not start a repetition, a lone `}` and a lone `]` as literals,
 *   and `\` before any punctuation as that literal; the `u` flag needs those escaped or bare.
 * - `[]a]` (a `]` first in a class is a literal in RE2), POSIX classes `[[:alpha:]]`,
 *   `\pL` / `\p{Greek}` (scripts need `Script=` in JS), `\x{263a}`, `\a`.
 * - `\s` / `\S` outside a class mean RE2's ASCII whitespace `[\t\n\f\r ]`, not Unicode's.
 * - What RE2 does not have is rejected rather than silently accepted: backreferences
 *   `\1`, lookaround `(?=…)` `(?!…)` `(?<=…)` `(?<!…)`, atomic groups.
 * Known remaining differences: `\S`, `\w`, `\b` inside case-insensitive matching and `\S` inside
 * a class use JS's definitions; negated POSIX classes `[[:^alpha:]]` are rejected.
 */

/** The result of translation: a JS source and flags, ready for `new RegExp`. */
export interface TranslatedRegex {
  source: string;
  flags: string;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Characters the JS `u` flag lets (and requires to) be escaped with `\`. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const RE2_SPACE = '\\t\\n\\f\\r ';

/**
 * Translates `pattern` and anchors it. Throws an `Error` whose message says what is not
 * supported; the caller prefixes the config key path.
 */
export function translateRe2(pattern: string): TranslatedRegex {
  let rest = pattern;
  const flags = new Set<string>(['s', 'u']);
  // Only a flag group at the very start can become a RegExp flag without changing meaning.
  const lead = /^\(\?([imsU]+)\)/.exec(rest);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new Error('the ungreedy flag (?U) is not supported');
      flags.add(f);
    }
    rest = rest.slice(lead[0].length);
  }
  const multiline = flags.has('m');
  // With `m`, JS's `^`/`$` become line anchors, so the outer anchors must be spelled as
  // "no character before/after" to keep Prometheus's whole-value match.
  const textStart = multiline ? '(?<![\\s\\S])' : '^';
  const textEnd = multiline ? '(?![\\s\\S])' : '$';
  const body = translateBody(rest, textStart, textEnd);
  return { source: `${textStart}(?:${body})${textEnd}`, flags: [...flags].sort().join('') };
}

function translateBody(p: string, textStart: string, textEnd: string): string {
  let out = '';
  let i = 0;
  // Case-insensitivity per open group: Node 20 has no `(?i:…)`, so letters inside such a
  // group are spelled out as `[aA]`.
  const groups: boolean[] = [];
  let ci = false;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const { text, next } = translateEscape(p, i, false, textStart, textEnd);
      out += ci && p[i + 1] === 'Q' ? caseless(text) : text;
      i = next;
    } else if (c === '[') {
      const { text, next } = translateClass(p, i, ci);
      out += text;
      i = next;
    } else if (c === '(') {
      const group = translateGroupOpen(p, i);
      i = group.next;
      if (group.text === '') {
        // `(?i)` in the middle: case-insensitive until the end of the enclosing group. `(?s)`
        // alone changes nothing (always on).
        ci = ci || group.caseInsensitive;
        continue;
      }
      groups.push(ci);
      ci = ci || group.caseInsensitive;
      out += group.text;
    } else if (c === ')') {
      ci = groups.pop() ?? false;
      out += c;
      i++;
    } else if (c === '{') {
      const rep = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
      if (rep) {
        out += rep[0];
        i += rep[0].length;
      } else {
        out += '\\{';
        i++;
      }
    } else if (c === '}' || c === ']') {
      out += `\\${c}`;
      i++;
    } else if (c === '/') {
      out += '\\/';
      i++;
    } else {
      out += ci ? caseless(c) : c;
      i++;
    }
  }
  return out;
}

/** A literal with each cased letter spelled as a class of both cases: `ab` → `[aA][bB]`. */
function caseless(literal: string): string {
  let out = '';
  for (const ch of literal) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    out +=
      lower !== upper && [...lower].length === 1 && [...upper].length === 1
        ? `[${lower}${upper}]`
        : ch;
  }
  return out;
}

function translateGroupOpen(
  p: string,
  i: number,
): { text: string; next: number; caseInsensitive: boolean } {
  const after = p.slice(i + 1);
  const plain = (text: string, next: number) => ({ text, next, caseInsensitive: false });
  if (!after.startsWith('?')) return plain('(', i + 1);
  if (after.startsWith('?P<')) return plain('(?<', i + 4);
  if (after.startsWith('?:')) return plain('(?:', i + 3);
  if (/^\?<[A-Za-z_]/.test(after)) return plain('(?<', i + 3);
  if (/^\?(=|!|<=|<!)/.test(after))
    throw new Error('lookaround assertions are not supported (RE2 syntax has none)');
  const flags = /^\?([is]+)(:|\))/.exec(after);
  if (flags) {
    // `s` is always on (Prometheus wraps patterns in (?s:…)), so only `i` changes anything.
    const caseInsensitive = flags[1]!.includes('i');
    const next = i + 1 + flags[0].length;
    if (flags[2] === ')') return { text: '', next, caseInsensitive };
    return { text: '(?:', next, caseInsensitive };
  }
  if (/^\?[-imsU]+[:)]/.test(after))
    throw new Error(
      'only the i and s inline flags are supported ((?i), (?i:…)); m and U only as a leading (?m)',
    );
  throw new Error(`unsupported group syntax at offset ${i}: ${p.slice(i, i + 4)}`);
}

function translateEscape(
  p: string,
  i: number,
  inClass: boolean,
  textStart: string,
  textEnd: string,
): { text: string; next: number } {
  const e = p[i + 1];
  if (e === undefined) throw new Error('trailing backslash');
  switch (e) {
    case 'A':
      if (inClass) break;
      return { text: textStart, next: i + 2 };
    case 'z':
      if (inClass) break;
      return { text: textEnd, next: i + 2 };
    case 'a':
      return { text: '\\x07', next: i + 2 };
    case 's':
      return { text: inClass ? RE2_SPACE : `[${RE2_SPACE}]`, next: i + 2 };
    case 'S':
      return { text: inClass ? '\\S' : `[^${RE2_SPACE}]`, next: i + 2 };
    case 'Q': {
      const end = p.indexOf('\\E', i + 2);
      const literal = p.slice(i + 2, end < 0 ? p.length : end);
      const quoted = [...literal].map((ch) => (JS_SYNTAX.has(ch) ? `\\${ch}` : ch)).join('');
      return { text: quoted, next: end < 0 ? p.length : end + 2 };
    }
    case 'x': {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(p.slice(i + 2));
      if (braced) return { text: `\\u{${braced[1]}}`, next: i + 2 + braced[0].length };
      return { text: '\\x', next: i + 2 };
    }
    case 'p':
    case 'P': {
      const braced = /^\{(\^?)([A-Za-z_]+)\}/.exec(p.slice(i + 2));
      const single = /^[A-Za-z]/.exec(p.slice(i + 2));
      if (!braced && !single) throw new Error(`invalid character class escape \\${e}`);
      const negate = (braced?.[1] === '^') !== (e === 'P');
      const name = braced ? braced[2]! : single![0];
      const next = i + 2 + (braced ? braced[0].length : 1);
      return { text: `\\${negate ? 'P' : 'p'}{${unicodePropertyName(name)}}`, next };
    }
    default:
      break;
  }
  if (/[1-9]/.test(e)) throw new Error('backreferences are not supported (RE2 syntax has none)');
  if (/[A-Za-z0-9]/.test(e)) return { text: `\\${e}`, next: i + 2 };
  // RE2: a backslash before any punctuation is that punctuation, literally.
  if (JS_SYNTAX.has(e) || (inClass && e === '-')) return { text: `\\${e}`, next: i + 2 };
  return { text: e, next: i + 2 };
}

function unicodePropertyName(name: string): string {
  if (name === 'Any') return 'Any';
  try {
    new RegExp(`\\p{${name}}`, 'u');
    return name;
  } catch {
    // RE2 accepts script names bare (`\p{Greek}`); JS wants `Script=Greek`.
    return `Script=${name}`;
  }
}

function translateClass(
  p: string,
  start: number,
  caseInsensitive = false,
): { text: string; next: number } {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  // RE2: a `]` right after `[` or `[^` is a literal, not the end of an empty class.
  if (p[i] === ']') {
    out += '\\]';
    i++;
  }
  while (i < p.length) {
    const c = p[i]!;
    if (c === ']') return { text: `${out}]`, next: i + 1 };
    if (c === '[' && p[i + 1] === ':') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (posix) {
        const ranges = POSIX_CLASSES[posix[2]!];
        if (!ranges) throw new Error(`unknown POSIX class [:${posix[2]}:]`);
        if (posix[1]) throw new Error(`negated POSIX class [:^${posix[2]}:] is not supported`);
        out += ranges;
        i += posix[0].length;
        continue;
      }
    }
    if (c === '\\') {
      const { text, next } = translateEscape(p, i, true, '', '');
      out += text;
      i = next;
      continue;
    }
    if (caseInsensitive) {
      const range = /^([A-Za-z])-([A-Za-z])/.exec(p.slice(i));
      if (range && isSameCase(range[1]!, range[2]!)) {
        out += `${range[0]}${swapCase(range[1]!)}-${swapCase(range[2]!)}`;
        i += 3;
        continue;
      }
      if (p[i + 1] !== '-' && swapCase(c) !== c) {
        out += `${c}${swapCase(c)}`;
        i++;
        continue;
      }
    }
    // Inside a class the `u` flag rejects a bare `[`, `{`, `}`, `(`, `)`, `/`, `|`.
    out += c === '[' || c === '{' || c === '}' || c === '/' || c === '|' ? `\\${c}` : c;
    i++;
  }
  throw new Error('missing closing ]');
}

function swapCase(ch: string): string {
  const lower = ch.toLowerCase();
  return lower === ch ? ch.toUpperCase() : lower;
}

function isSameCase(a: string, b: string): boolean {
  return (a === a.toLowerCase()) === (b === b.toLowerCase());
}
