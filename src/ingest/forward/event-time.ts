/**
 * Forward event times, normalised to seconds + nanoseconds.
 *
 * Accepted forms: EventTime (ext type 0 with 8 bytes, as fixext8 or ext8), integer seconds,
 * the v1.5 `[time, {metadata}]` form Fluent Bit ≥ 5 sends by default, and float seconds
 * (off-spec, but sent by some clients; accepted and reported so the caller can count them).
 * A time of 0 or nil means "now", as fluentd does. Anything else makes the event invalid.
 */
import { Kind, type MsgpackReader } from './msgpack-reader.ts';

export type EventTime =
  | { ok: true; sec: number; nsec: number; offSpec?: 'float_time' }
  | { ok: false; reason: string };

/** Splits epoch milliseconds into seconds + nanoseconds. */
export function timeFromMs(ms: number): { ok: true; sec: number; nsec: number } {
  const sec = Math.floor(ms / 1000);
  return { ok: true, sec, nsec: Math.round((ms - sec * 1000) * 1_000_000) };
}

/** A time that arrived as a JS number (msgpack int/float or JSON). */
export function timeFromNumber(n: number | bigint, nowMs: number): EventTime {
  if (typeof n === 'bigint') return { ok: false, reason: `time ${n} out of range` };
  if (!Number.isFinite(n) || n < 0 || n > 0xffffffff) {
    return { ok: false, reason: `time ${n} out of range` };
  }
  if (n === 0) return timeFromMs(nowMs);
  if (Number.isInteger(n)) return { ok: true, sec: n, nsec: 0 };
  const sec = Math.floor(n);
  const nsec = Math.min(999_999_999, Math.round((n - sec) * 1e9));
  return { ok: true, sec, nsec, offSpec: 'float_time' };
}

/** Reads the time slot of an entry or a Message-mode request; always consumes one value. */
export function readEventTime(r: MsgpackReader, nowMs: number, depth = 0): EventTime {
  const kind = r.peekKind();
  switch (kind) {
    case Kind.Ext: {
      const start = r.tryExt();
      if (r.lastExtType !== 0 || r.lastEnd - start !== 8) {
        return { ok: false, reason: `ext type ${r.lastExtType} is not an EventTime` };
      }
      const sec = r.uint32At(start);
      const nsec = r.uint32At(start + 4);
      if (nsec >= 1_000_000_000) return { ok: false, reason: `EventTime nsec ${nsec} ≥ 1e9` };
      if (sec === 0) return timeFromMs(nowMs);
      return { ok: true, sec, nsec };
    }
    case Kind.Int:
    case Kind.Float:
      return timeFromNumber(r.tryNumber()!, nowMs);
    case Kind.Nil:
      r.skip();
      return timeFromMs(nowMs);
    case Kind.Array: {
      if (depth > 0) {
        r.skip();
        return { ok: false, reason: 'nested time array' };
      }
      const n = r.tryArrayHeader();
      if (n === 0) return { ok: false, reason: 'empty time array' };
      const t = readEventTime(r, nowMs, depth + 1);
      // The metadata map (and anything after it) is not used by fleetline yet.
      for (let i = 1; i < n; i++) r.skip();
      return t;
    }
    default:
      r.skip();
      return { ok: false, reason: 'time is not an integer, EventTime or float' };
  }
}
