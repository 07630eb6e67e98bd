/**
 * Quoting for the InfluxQL the generators emit. Names come from the registry and the catalog
 * (user data), so every identifier and regex literal is escaped here rather than trusted.
 */

/** A double-quoted identifier: `"my ""odd"" name"` is not valid InfluxQL, `\"` is. */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A single-quoted string literal (tag values in `=` comparisons). */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Escapes a value for use inside an anchored `/^(…)$/` regex literal. */
export function regexEscape(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');
}

/** `/^(a|b)$/` matching exactly the given values (never empty: an empty set matches nothing). */
export function anyOf(values: readonly string[]): string {
  if (values.length === 0) return '/^$a/';
  return `/^(${values.map(regexEscape).join('|')})$/`;
}
