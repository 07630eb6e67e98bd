/**
 * Yes/no matching for keep, drop, labeldrop and labelkeep without running a regex when the
 * pattern is one of the shapes rules are usually written in: `.*`, `.+`, a literal, or an
 * alternation of literals (`web|api|worker`, `instance_id|host`), optionally followed by `.*`
 * (`tmp_.*`). Everything else falls back to the compiled, anchored RegExp. The same idea as
 * Prometheus's FastRegexMatcher; the shapes are recognised on the RE2 source before
 * translation, so a fast path always means exactly what the regex means (with the `s` flag
 * Prometheus adds, `.*` matches any string, newlines included).
 */

export interface Matcher {
  test(value: string): boolean;
}

/** Characters that are literal in RE2 outside a class (no escapes needed). */
const PLAIN = /^[A-Za-z0-9_\-:/ ,;=@#%&'"~<>!`]*$/;

export function fastMatcher(re2Source: string, regex: RegExp): Matcher {
  if (re2Source === '.*' || re2Source === '(.*)') return { test: () => true };
  if (re2Source === '.+' || re2Source === '(.+)') return { test: (v) => v.length > 0 };
  let body = re2Source;
  let prefixOnly = false;
  if (body.endsWith('.*') && !body.endsWith('\\.*')) {
    body = body.slice(0, -2);
    prefixOnly = true;
    // `(a|b).*`: the alternation must be grouped for the `.*` to apply to every branch.
    if (body.startsWith('(') && body.endsWith(')')) body = body.slice(1, -1);
    else if (body.includes('|')) return regex;
  }
  const literals = body.split('|');
  if (!literals.every((l) => PLAIN.test(l))) return regex;
  if (prefixOnly) return { test: (v) => literals.some((l) => v.startsWith(l)) };
  if (literals.length === 1) {
    const only = literals[0]!;
    return { test: (v) => v === only };
  }
  const set = new Set(literals);
  return { test: (v) => set.has(v) };
}
