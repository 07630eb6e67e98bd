/**
 * Quoting for the InfluxQL the generators emit. Names come from the registry and the catalog
 * (user data), so every identifier and regex literal is escaped here rather than trusted.
 *
 * Queries must name what InfluxDB *stored*, which is not always the name itself: line protocol
 * cannot carry some characters, and the encoder (src/sinks/influxdb/encode.ts) rewrites them —
 * a newline or carriage return in a name or tag value becomes the two characters `\n` / `\r`,
 * a trailing backslash becomes `/`, and a measurement starting with `#` gets a `_` in front.
 * `storedName` / `storedMeasurement` apply the same rewrite, and every helper below quotes the
 * stored form (a raw newline would also end an InfluxQL string: a parse error).
 */

/** A tag value, tag key or field key as InfluxDB holds it after the encoder's rewrite. */
export function storedName(name: string): string {
  if (!/[\n\r]|\\$/.test(name)) return name;
  const out = name.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return out.endsWith('\\') ? `${out.slice(0, -1)}/` : out;
}

/** A measurement name as InfluxDB holds it after the encoder's rewrite. */
export function storedMeasurement(name: string): string {
  const s = storedName(name);
  return s.startsWith('#') ? `_${s}` : s;
}

/** A double-quoted identifier: `"my ""odd"" name"` is not valid InfluxQL, `\"` is. */
export function ident(name: string): string {
  return `"${storedName(name).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A double-quoted measurement name. */
export function measurementIdent(name: string): string {
  return ident(storedMeasurement(name));
}

/** A single-quoted string literal (tag values in `=` comparisons). */
export function stringLiteral(value: string): string {
  return `'${storedName(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Escapes a value for use inside an anchored `/^(…)$/` regex literal. */
export function regexEscape(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');
}

/**
 * `/^(a|b)$/` matching exactly the given tag values as stored (never empty: an empty set
 * matches nothing).
 */
export function anyOf(values: readonly string[]): string {
  if (values.length === 0) return '/^$a/';
  return `/^(${values.map((v) => regexEscape(storedName(v))).join('|')})$/`;
}
