/**
 * The pure half of the rollup: groups a delivery's entries by (role, version, measurement,
 * interval start) and folds each group into an `IntervalState` delta. No I/O, no clock; the
 * engine merges the deltas into the stored state inside the spool's transaction.
 */
import type { Entry } from '../core/entry.ts';
import { addRecord, emptyState, type IntervalState } from './interval-state.ts';

/** Measurements fleetline writes itself; rolling them up again would feed back on itself. */
export const DERIVED_MEASUREMENTS: ReadonlySet<string> = new Set([
  'fleet_events',
  'fleet_rollup',
  'fleet_members',
]);

/** Label value for an entry the fleet stage could not place. */
export const UNKNOWN = 'unknown';

export interface IntervalKey {
  role: string;
  version: string;
  measurement: string;
  /** Interval start, epoch ms, a multiple of the interval. */
  startMs: number;
}

export interface IntervalDelta extends IntervalKey {
  state: IntervalState;
}

export interface AggregateOptions {
  intervalMs: number;
  numericFields: readonly string[];
}

export interface Aggregated {
  deltas: Map<string, IntervalDelta>;
  /** Entries folded into a delta (derived measurements excluded). */
  aggregated: number;
}

export function intervalStart(sec: number, nsec: number, intervalMs: number): number {
  const ms = sec * 1000 + Math.floor(nsec / 1_000_000);
  return ms - (((ms % intervalMs) + intervalMs) % intervalMs);
}

export function keyString(k: IntervalKey): string {
  // NUL separates the parts: tags, measurements and labels are printable text, so cannot hold it.
  return `${k.role}\u0000${k.version}\u0000${k.measurement}\u0000${k.startMs}`;
}

export function aggregateEntries(
  entries: Iterable<Entry>,
  opts: AggregateOptions,
  into: Aggregated = { deltas: new Map(), aggregated: 0 },
): Aggregated {
  // Entries of one instance share one labels object, and within a delivery mostly one tag
  // and interval: remember each labels object's last group, so the key text is built and
  // hashed only when an instance moves to another group (agents interleave instances, so
  // "same as the previous entry" alone misses most of the time).
  const lastGroup = new Map<Entry['labels'], IntervalDelta>();
  for (const e of entries) {
    if (DERIVED_MEASUREMENTS.has(e.tag)) continue;
    const startMs = intervalStart(e.sec, e.nsec, opts.intervalMs);
    let delta = lastGroup.get(e.labels);
    if (delta === undefined || e.tag !== delta.measurement || startMs !== delta.startMs) {
      const role = nonEmpty(e.labels?.role);
      const version = nonEmpty(e.labels?.version);
      // Same text as keyString().
      const ks = `${role}\u0000${version}\u0000${e.tag}\u0000${startMs}`;
      delta = into.deltas.get(ks);
      if (!delta) {
        delta = { role, version, measurement: e.tag, startMs, state: emptyState() };
        into.deltas.set(ks, delta);
      }
      // Bounded: entries that each carry their own labels object would otherwise grow it.
      if (lastGroup.size >= 1024) lastGroup.clear();
      lastGroup.set(e.labels, delta);
    }
    addRecord(delta.state, e.record, opts.numericFields, e.tags);
    into.aggregated++;
  }
  return into;
}

function nonEmpty(v: string | undefined): string {
  // InfluxDB drops empty tag values, which would merge this series into another one.
  return v === undefined || v === '' ? UNKNOWN : v;
}
