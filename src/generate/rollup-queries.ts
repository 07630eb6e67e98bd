/**
 * The InfluxQL text of every role-level signal, shared by dashboards and alert rules so a panel
 * and the alert on it can never disagree. Queries read only the rollup tiers of
 * docs/INFLUXDB-SCHEMA.md (`fleet_rollup`, `fleet_members`, `fleet_events`) plus the per-slot
 * event series, and never group by anything instance-shaped: that is what keeps a line
 * continuous when an instance is swapped.
 *
 * `fill(none)`: an interval with no rollup point is left out rather than drawn as null, so
 * Grafana joins the neighbours and a swap (which never empties the role's rollup anyway) shows
 * no break. Counts use `fill(0)`: no events in an interval really is zero.
 */
import { anyOf, ident, measurementIdent } from './influxql-text.ts';
import type { SignalCatalog } from './signal-catalog.ts';

export interface QueryScope {
  /** InfluxQL boolean expression selecting the role(s)/version(s), no trailing AND. */
  where: string;
  /** `time(...)` argument: `$__interval` on dashboards, a fixed duration in alert rules. */
  interval: string;
  /** Tags to group by besides time (`role`, `version`, …). */
  groupBy: readonly string[];
}

/** The dashboard scope: template variables, Grafana's interval. */
export function variableScope(groupBy: readonly string[]): QueryScope {
  return {
    where: `"role" =~ /^$role$/ AND "version" =~ /^$version$/`,
    interval: '$__interval',
    groupBy,
  };
}

function groupBy(scope: QueryScope, fill: 'none' | '0'): string {
  const tags = scope.groupBy.map((t) => `, ${ident(t)}`).join('');
  return `GROUP BY time(${scope.interval})${tags} fill(${fill})`;
}

function requestFilter(cat: SignalCatalog): string {
  return cat.requestMeasurements.length > 0
    ? ` AND "measurement" =~ ${anyOf(cat.requestMeasurements)}`
    : '';
}

/** Requests per second: rollup event counts over the interval's length. */
export function requestRateQuery(cat: SignalCatalog, scope: QueryScope): string {
  const perSecond =
    scope.interval === '$__interval' ? '* 1000 / $__interval_ms' : `/ ${seconds(scope.interval)}`;
  return `SELECT sum("events") ${perSecond} AS "rate" FROM "fleet_rollup" WHERE ${scope.where}${requestFilter(cat)} AND $timeFilter ${groupBy(scope, '0')}`;
}

/**
 * 5xx share of requests; with no request measurement, error-level share of all events.
 * `fill(0)`: an interval without a single 5xx has no `status_5xx` field at all, and InfluxQL
 * would make the ratio null there — a gap in the line exactly when things are fine.
 */
export function errorRatioQuery(cat: SignalCatalog, scope: QueryScope): string {
  const errors = cat.requestMeasurements.length > 0 ? '"status_5xx"' : '"level_error"';
  return `SELECT sum(${errors}) / sum("events") AS "error_ratio" FROM "fleet_rollup" WHERE ${scope.where}${requestFilter(cat)} AND $timeFilter ${groupBy(scope, '0')}`;
}

/**
 * p95 of the latency field. Rollups hold one exact p95 per (role, version, interval); across
 * versions and coarser intervals the query takes the max, i.e. the worst version's p95,
 * which is the conservative reading for a latency alert.
 */
export function latencyQuery(cat: SignalCatalog, scope: QueryScope, pct = 'p95'): string {
  const f = `${cat.numericFields[0]}_${pct}`;
  return `SELECT max(${ident(f)}) AS ${ident(pct)} FROM "fleet_rollup" WHERE ${scope.where} AND $timeFilter ${groupBy(scope, 'none')}`;
}

export function percentilesQuery(field: string, scope: QueryScope): string {
  const cols = ['p50', 'p95', 'p99', 'max']
    .map((p) => `max(${ident(`${field}_${p}`)}) AS ${ident(p)}`)
    .join(', ');
  return `SELECT ${cols} FROM "fleet_rollup" WHERE ${scope.where} AND $timeFilter ${groupBy(scope, 'none')}`;
}

/** Live members: max within the interval per group (members are a level, not a count). */
export function membersQuery(scope: QueryScope): string {
  return `SELECT max("members") AS "members" FROM "fleet_members" WHERE ${scope.where} AND $timeFilter ${groupBy(scope, 'none')}`;
}

/** Members of a role summed over its versions at the rollup interval (alerting). */
export function roleMembersQuery(where: string, rollupInterval: string): string {
  return `SELECT sum("members") AS "members" FROM "fleet_members" WHERE ${where} AND $timeFilter GROUP BY time(${rollupInterval}) fill(none)`;
}

export function levelsQuery(cat: SignalCatalog, scope: QueryScope): string {
  const cols = cat.levels.map((l) => `sum(${ident(`level_${l}`)}) AS ${ident(l)}`).join(', ');
  return `SELECT ${cols} FROM "fleet_rollup" WHERE ${scope.where} AND $timeFilter ${groupBy(scope, '0')}`;
}

export function statusClassesQuery(cat: SignalCatalog, scope: QueryScope): string {
  const cols = cat.statusClasses
    .map((c) => `sum(${ident(`status_${c}`)}) AS ${ident(c)}`)
    .join(', ');
  return `SELECT ${cols} FROM "fleet_rollup" WHERE ${scope.where}${requestFilter(cat)} AND $timeFilter ${groupBy(scope, '0')}`;
}

/** Events per source measurement: the log volume of the role. */
export function logVolumeQuery(scope: QueryScope): string {
  return `SELECT sum("events") AS "events" FROM "fleet_rollup" WHERE ${scope.where} AND $timeFilter ${groupBy({ ...scope, groupBy: [...scope.groupBy, 'measurement'] }, '0')}`;
}

/** Per-slot series straight from an event measurement: `slot` survives every swap. */
export function slotCountQuery(measurement: string, field: string, where: string): string {
  return `SELECT count(${ident(field)}) AS "events" FROM ${measurementIdent(measurement)} WHERE ${where} AND $timeFilter GROUP BY time($__interval), "slot" fill(0)`;
}

export function slotMeanQuery(measurement: string, field: string, where: string): string {
  return `SELECT mean(${ident(field)}) AS ${ident(field)} FROM ${measurementIdent(measurement)} WHERE ${where} AND $timeFilter GROUP BY time($__interval), "slot" fill(none)`;
}

export const ANNOTATION_KINDS = ['replace', 'rollout_start', 'rollout_finish', 'deploy'] as const;

/**
 * Replacements, rollouts and deploys from `fleet_events`. `text` already reads
 * "i-old → i-new (1.4.2 → 1.4.3, release)"; the other columns make the table readable.
 */
export function fleetEventsQuery(roleWhere: string, limit?: number): string {
  const cols = [
    'text',
    'title',
    'kind',
    'role',
    'old_instance_id',
    'new_instance_id',
    'old_version',
    'new_version',
    'cause',
  ]
    .map(ident)
    .join(', ');
  const tail = limit ? ` ORDER BY time DESC LIMIT ${limit}` : '';
  return `SELECT ${cols} FROM "fleet_events" WHERE ${roleWhere} AND "kind" =~ ${anyOf([...ANNOTATION_KINDS])} AND $timeFilter${tail}`;
}

export function tagValuesQuery(key: 'role' | 'version', measurement = 'fleet_rollup'): string {
  const where = key === 'version' ? ` WHERE "role" =~ /^$role$/` : '';
  return `SHOW TAG VALUES FROM ${measurementIdent(measurement)} WITH KEY = ${ident(key)}${where}`;
}

function seconds(duration: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(duration);
  if (!m) throw new Error(`alert interval must be like 10s, 1m or 1h, got ${duration}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}
