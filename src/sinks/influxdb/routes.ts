/**
 * `schema.routes`: which measurement a fluentd tag is written to. A route's `match` is a fluentd
 * tag glob — `*` matches one tag part (or the rest of one part, as in `app.web*`), `**` zero or
 * more parts (`app.**` matches `app` and `app.a.b`), `{a,b}` alternatives (which may contain
 * globs). The first matching route wins; an unmatched tag is its own measurement.
 *
 * Compiled once into regular expressions (`compileRoutes`), then applied per entry through a
 * small memo, because a batch carries thousands of entries but only a handful of tags.
 */
import type { SchemaConfig } from '../../config/schema.ts';

export type RouteFn = (tag: string) => string;

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Splits `a,b{c,d}` at top-level commas. */
function splitAlternatives(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function globSource(p: string): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    if (p.startsWith('.**', i)) {
      // `a.**` matches `a` too: the dot belongs to the optional tail.
      out += '(?:\\..*)?';
      i += 3;
      continue;
    }
    if (p.startsWith('**.', i) && i === 0) {
      out += '(?:.*\\.)?';
      i += 3;
      continue;
    }
    if (p.startsWith('**', i)) {
      out += '.*';
      i += 2;
      continue;
    }
    const c = p[i]!;
    if (c === '*') {
      out += '[^.]*';
      i++;
      continue;
    }
    if (c === '{') {
      let depth = 0;
      let j = i;
      for (; j < p.length; j++) {
        if (p[j] === '{') depth++;
        else if (p[j] === '}' && --depth === 0) break;
      }
      if (j >= p.length) {
        out += escapeRegex(c);
        i++;
        continue;
      }
      const alts = splitAlternatives(p.slice(i + 1, j)).map(globSource);
      out += `(?:${alts.join('|')})`;
      i = j + 1;
      continue;
    }
    out += escapeRegex(c);
    i++;
  }
  return out;
}

/** A fluentd tag glob as an anchored regular expression. */
export function compileGlob(pattern: string): RegExp {
  return new RegExp(`^${globSource(pattern)}$`);
}

export function compileRoutes(routes: SchemaConfig['routes']): RouteFn {
  const compiled = routes.map((r) => ({ re: compileGlob(r.match), measurement: r.measurement }));
  const memo = new Map<string, string>();
  return (tag) => {
    const hit = memo.get(tag);
    if (hit !== undefined) return hit;
    const measurement = compiled.find((r) => r.re.test(tag))?.measurement ?? tag;
    // Tags come from the network; keep the memo bounded.
    if (memo.size > 10_000) memo.clear();
    memo.set(tag, measurement);
    return measurement;
  };
}
