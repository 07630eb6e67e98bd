/**
 * Quoting for the InfluxQL the generators emit. Names come from the registry and the catalog
 * (user data), so every identifier and regex literal is escaped here rather than trusted.
 *
 * Queries must name what InfluxDB *stored*, which is not always the name itself: line protocol
 * cannot carry some characters, and the encoder (src/sinks/influxdb/encode.ts) rewrites them —
 * a newline, carriage return or NUL becomes the two characters `\n` / `\r` / `\0` (InfluxQL
 * could not name a NUL: its scanner reads one as the end of the query), a backslash 1.x cannot
 * store gets a `/` after it, and a measurement starting with `#` gets a `_` in front. Tag values
 * (roles, versions, the rollups' `measurement` tag) and measurement names arrive raw and go
 * through the encoder's own `storedTagValue` / `storedMeasurement`; field and tag keys arrive as
 * the catalog recorded them (already as stored) or are fleetline's own plain names, so `ident`
 * only spells their newlines the way the encoder writes them (applying the backslash rule twice
 * would name another key).
 */
import { spelledControls, storedMeasurement, storedTagValue } from '../sinks/influxdb/encode.ts';

function quoteIdent(stored: string): string {
  return `"${stored.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * A double-quoted field or tag key: `"my ""odd"" name"` is not valid InfluxQL, `\"` is. The
 * key as the catalog recorded it (or a plain name of fleetline's own).
 */
export function ident(name: string): string {
  return quoteIdent(spelledControls(name));
}

/** A double-quoted measurement name, from the raw name. */
export function measurementIdent(name: string): string {
  return quoteIdent(storedMeasurement(name));
}

/** A single-quoted string literal (tag values in `=` comparisons). */
export function stringLiteral(value: string): string {
  return `'${storedTagValue(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
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
  return `/^(${values.map((v) => regexEscape(storedTagValue(v))).join('|')})$/`;
}
