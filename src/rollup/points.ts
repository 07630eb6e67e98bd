/**
 * Turns interval states and member counts into the entries the spool delivers to InfluxDB:
 * `fleet_rollup` and `fleet_members` exactly as docs/INFLUXDB-SCHEMA.md describes them. Pure.
 *
 * The entries carry their own InfluxDB `tags` (role, version[, measurement]) and no `labels`,
 * like line-protocol points, so the writer keeps the tags as they are. Their time is the
 * interval start, so a re-emit hits the same series and timestamp and rewrites the point.
 */
import type { Batch, Entry } from '../core/entry.ts';
import type { IntervalKey } from './aggregate.ts';
import { type IntervalState, rollupFields } from './interval-state.ts';

export const ROLLUP_MEASUREMENT = 'fleet_rollup';
export const MEMBERS_MEASUREMENT = 'fleet_members';

/**
 * Origin of derived batches. `Origin.input` has no value for "made inside fleetline"; these
 * entries are InfluxDB points (tags + fields), so they travel as line protocol would.
 */
export const DERIVED_ORIGIN: Batch['origin'] = { input: 'internal' };

export function rollupPoint(key: IntervalKey, state: IntervalState): Entry {
  return {
    tag: ROLLUP_MEASUREMENT,
    ...timeOf(key.startMs),
    tags: { role: key.role, version: key.version, measurement: key.measurement },
    record: rollupFields(state),
  };
}

export function membersPoint(
  role: string,
  version: string,
  startMs: number,
  members: number,
): Entry {
  return {
    tag: MEMBERS_MEASUREMENT,
    ...timeOf(startMs),
    tags: { role, version },
    record: { members: BigInt(Math.max(0, Math.trunc(members))) },
  };
}

function timeOf(ms: number): { sec: number; nsec: number } {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1_000_000 };
}
