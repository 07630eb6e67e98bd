/**
 * What Grafana does to an InfluxQL query before InfluxDB sees it, so tests can run generated
 * queries for real. Two steps, in Grafana's order:
 *
 * 1. Frontend template variables (`$var`, `${var}`, `${var:format}`, `[[var]]`), InfluxQL
 *    rules of the InfluxDB datasource: a multi-value or include-All variable becomes a regex
 *    (`web` → `web` escaped, several → `(a|b)`, All → all options, or a custom allValue
 *    inserted raw); a plain single-value variable is inserted raw, escaped only inside a regex
 *    literal; numbers are left alone. Unknown `$names` (macros) are left for step 2.
 * 2. Backend macros (`pkg/influxdb/models/query.go`): `$timeFilter` → `time >= <from>ms and
 *    time <= <to>ms`, then `$interval`, `$__interval_ms`, `$__interval`, plain string replaces.
 */

export interface VariableState {
  /** Selected values, or 'All'. */
  selected: string[] | 'All';
  /** Every option the variable offers (what All expands to without allValue). */
  options: string[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

export interface MacroContext {
  from: number;
  to: number;
  intervalMs: number;
  variables: Record<string, VariableState>;
}

/** Grafana's `escapeRegex` for variable values. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** gtime.FormatDuration: the largest whole unit, truncated. */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [
    [365 * 86_400_000, 'y'],
    [7 * 86_400_000, 'w'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** Whether offset `at` of `query` sits inside a `/…/` regex literal. */
function insideRegexLiteral(query: string, at: number): boolean {
  let open = false;
  let quote: string | undefined;
  for (let i = 0; i < at; i++) {
    const c = query[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (open) {
      if (c === '\\') i++;
      else if (c === '/') open = false;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '/') open = true;
  }
  return open;
}

function formatValue(v: VariableState, format: string | undefined, inRegex: boolean): string {
  const all = v.selected === 'All';
  if (all && v.allValue !== undefined) return v.allValue;
  const values = all ? v.options : (v.selected as string[]);
  if (format === 'raw') return values.join(',');
  const regexFormat = format === 'regex' || v.multi || v.includeAll;
  if (!regexFormat) {
    const single = values[0] ?? '';
    if (/^-?\d+(\.\d+)?$/.test(single)) return single;
    return inRegex ? escapeRegex(single) : single;
  }
  if (values.length === 1) return escapeRegex(values[0]!);
  return `(${values.map(escapeRegex).join('|')})`;
}

/** Step 1: the frontend's template-variable interpolation. */
export function interpolateVariables(
  query: string,
  variables: Record<string, VariableState>,
): string {
  return query.replace(VARIABLE, (match, p1, p2, p3, p4, _fieldPath, p6, offset: number) => {
    const name = (p1 ?? p2 ?? p4) as string;
    const format = (p3 ?? p6) as string | undefined;
    const v = variables[name];
    if (!v) return match;
    return formatValue(v, format, insideRegexLiteral(query, offset));
  });
}

/** Step 2: the backend's macros. */
export function applyBackendMacros(
  query: string,
  ctx: Pick<MacroContext, 'from' | 'to' | 'intervalMs'>,
): string {
  const interval = formatInterval(ctx.intervalMs);
  return query
    .replaceAll('$timeFilter', `time >= ${ctx.from}ms and time <= ${ctx.to}ms`)
    .replaceAll('$interval', interval)
    .replaceAll('$__interval_ms', String(ctx.intervalMs))
    .replaceAll('$__interval', interval);
}

/** The query text InfluxDB receives from Grafana. */
export function grafanaQuery(query: string, ctx: MacroContext): string {
  return applyBackendMacros(interpolateVariables(query, ctx.variables), ctx);
}
