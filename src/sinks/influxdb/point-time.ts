/**
 * A point's timestamp (epoch nanoseconds, as InfluxDB gets it with precision=ns), from the
 * entry's time and its spool sequence. The rule (docs/INFLUXDB-SCHEMA.md, points.ts):
 *
 * - log records and line-protocol points: time + (entry_seq mod 10⁶) ns, so two records of one
 *   series in the same second do not overwrite each other, and a replay rewrites the same point;
 * - `fleet_rollup`, `fleet_members`: the exact time (a late entry must rewrite the interval);
 * - `fleet_events` with an `event_id`: the time truncated to ms + (FNV-1a(event_id) mod 10⁶).
 *
 * `pointTimeNs` is the definition, in BigInt. `pointTimeText` writes the same digits without
 * BigInt for every valid entry time (sec ≥ 0, nsec in 0..999,999,999): the offset is below 10⁶,
 * so `nsec + offset` carries at most one second, and the result is `sec` followed by nine
 * digits of nanoseconds. Anything else (negative seconds, a negative sequence) takes the BigInt
 * path, so the two can never disagree.
 */
import { type Entry, entryTimeNs } from '../../core/entry.ts';

export const ROLLUP_MEASUREMENT = 'fleet_rollup';
export const MEMBERS_MEASUREMENT = 'fleet_members';
export const EVENTS_MEASUREMENT = 'fleet_events';

const OFFSET_MODULO = 1_000_000n;
const NS_PER_S = 1_000_000_000;

/** FNV-1a 32-bit: a stable, dependency-free hash for the event offset. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The event id `fleet_events` offsets by, or undefined when the entry has none. */
function eventId(entry: Entry): string | undefined {
  if (entry.tag !== EVENTS_MEASUREMENT) return undefined;
  const id = entry.record.event_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The point's time in epoch nanoseconds. */
export function pointTimeNs(entry: Entry, entrySeq: number): bigint {
  const ns = entryTimeNs(entry);
  if (entry.tag === ROLLUP_MEASUREMENT || entry.tag === MEMBERS_MEASUREMENT) return ns;
  const id = eventId(entry);
  if (id !== undefined) {
    const ms = ns - (ns % 1_000_000n);
    return ms + (BigInt(fnv1a(id)) % OFFSET_MODULO);
  }
  return ns + (BigInt(entrySeq) % OFFSET_MODULO);
}

/** `String(pointTimeNs(entry, entrySeq))`, without BigInt arithmetic for valid entry times. */
export function pointTimeText(entry: Entry, entrySeq: number): string {
  const { sec, nsec } = entry;
  if (!(Number.isSafeInteger(sec) && sec >= 0 && Number.isInteger(nsec) && nsec >= 0)) {
    return String(pointTimeNs(entry, entrySeq));
  }
  if (nsec >= NS_PER_S) return String(pointTimeNs(entry, entrySeq));
  let ns = nsec;
  if (entry.tag !== ROLLUP_MEASUREMENT && entry.tag !== MEMBERS_MEASUREMENT) {
    const id = eventId(entry);
    if (id !== undefined) ns = nsec - (nsec % 1_000_000) + (fnv1a(id) % 1_000_000);
    else if (Number.isSafeInteger(entrySeq) && entrySeq >= 0) ns = nsec + (entrySeq % 1_000_000);
    else return String(pointTimeNs(entry, entrySeq));
  }
  // ns < 10⁹ + 10⁶ here, so at most one carry; sec + 1 ≤ 2⁵³ is still exact.
  let s = sec;
  if (ns >= NS_PER_S) {
    s += 1;
    ns -= NS_PER_S;
  }
  if (s === 0) return String(ns);
  // 10⁹ + ns is ten digits starting with 1: the rest is ns zero-padded to nine.
  return `${s}${String(NS_PER_S + ns).slice(1)}`;
}
