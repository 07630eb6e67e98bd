/**
 * Which signals a fleet has, read from the catalog of what fleetline wrote: which source
 * measurements carry requests (a `status` tag), which numeric fields the rollups summarise
 * (`<F>_p95` fields of `fleet_rollup`), which log levels occur, and which event measurements
 * have per-slot series. Falls back to the schema's defaults when the catalog is still empty, so
 * a fresh install gets useful dashboards before the first point arrives.
 */
import type { GenerationModel, MeasurementModel } from './model.ts';

export interface SignalCatalog {
  /** Source measurements whose rollups count requests; empty = all measurements. */
  requestMeasurements: string[];
  /** Numeric rollup fields (`reqtime` → `reqtime_p95` …). First one is "latency". */
  numericFields: string[];
  levels: string[];
  /** HTTP status classes seen (`2xx`, `5xx`, …). */
  statusClasses: string[];
  /** Event measurements with a `slot` tag, with the field to count and the one to average. */
  slotMeasurements: { name: string; countField: string; meanField?: string }[];
  rollupInterval: string;
}

const FLEET_MEASUREMENTS = new Set(['fleet_rollup', 'fleet_members', 'fleet_events']);
const DEFAULT_NUMERIC = ['reqtime'];
const DEFAULT_LEVELS = ['error', 'warn', 'info'];
const DEFAULT_STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export function signalCatalog(model: GenerationModel): SignalCatalog {
  const byName = new Map(model.measurements.map((m) => [m.name, m]));
  const events = [...model.measurements]
    .filter((m) => !FLEET_MEASUREMENTS.has(m.name))
    .sort((a, b) => cmp(a.name, b.name));
  const rollupFields = Object.keys(byName.get('fleet_rollup')?.fields ?? {}).sort(cmp);

  const numeric = rollupFields.flatMap((f) => /^(.+)_p95$/.exec(f)?.slice(1, 2) ?? []);
  const levels = rollupFields.flatMap((f) => /^level_(.+)$/.exec(f)?.slice(1, 2) ?? []);
  const statuses = rollupFields.flatMap((f) => /^status_([1-5]xx)$/.exec(f)?.slice(1, 2) ?? []);
  const numericFields = numeric.length > 0 ? numeric : DEFAULT_NUMERIC;
  return {
    requestMeasurements: events.filter((m) => m.tagKeys.includes('status')).map((m) => m.name),
    numericFields,
    levels: levels.length > 0 ? levels : DEFAULT_LEVELS,
    statusClasses: statuses.length > 0 ? statuses : DEFAULT_STATUS_CLASSES,
    slotMeasurements: events
      .filter((m) => m.tagKeys.includes('slot'))
      .flatMap((m) => slotSeries(m, numericFields)),
    rollupInterval: model.rollupInterval ?? '10s',
  };
}

function slotSeries(m: MeasurementModel, numericFields: readonly string[]) {
  const fields = Object.keys(m.fields).sort(cmp);
  if (fields.length === 0) return [];
  const numeric = fields.filter((f) => m.fields[f] === 'float' || m.fields[f] === 'integer');
  const meanField = numericFields.find((f) => numeric.includes(f)) ?? numeric[0];
  // Count a field every point has: the schema guarantees `_count` or `instance_id` on most.
  const countField =
    ['_count', 'instance_id'].find((f) => fields.includes(f)) ?? meanField ?? fields[0]!;
  return [{ name: m.name, countField, ...(meanField ? { meanField } : {}) }];
}

/** Code-point order, not locale order: output must not depend on the machine's locale. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
