/**
 * Event times as fluentd clients send them over HTTP, turned into exact `sec` + `nsec`:
 * the `?time=` parameter (epoch seconds, fraction allowed: `1518756037.3137116`), or a `time`
 * key in the record holding epoch seconds (number or numeric string), an RFC 3339 string, or a
 * msgpack EventTime. Decimal strings are split digit-wise so no precision is lost to floats.
 */

export interface Time {
  sec: number;
  nsec: number;
}

/** fluentd's EventTime (msgpack ext type 0) as decoded from a body. */
export class EventTimeValue implements Time {
  constructor(
    readonly sec: number,
    readonly nsec: number,
  ) {}
}

/** Largest |seconds| whose nanoseconds still fit InfluxDB's int64 time. */
const MAX_ABS_SEC = 9_223_372_035;

const DECIMAL_RE = /^(-?)([0-9]+)(?:\.([0-9]*))?$/;
const RFC3339_RE =
  /^([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})$/;

/** Epoch seconds written in decimal; `undefined` when the text is not one. */
export function parseEpochSeconds(text: string): Time | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return undefined;
  const whole = Number(m[2]);
  const frac = Number(`${m[3] ?? ''}000000000`.slice(0, 9));
  return m[1] === '-' ? negate(whole, frac) : { sec: whole, nsec: frac };
}

export function fromEpochNumber(v: number): Time | undefined {
  if (!Number.isFinite(v)) return undefined;
  const sec = Math.floor(v);
  const nsec = Math.min(999_999_999, Math.round((v - sec) * 1e9));
  return { sec, nsec };
}

export function parseRfc3339(text: string): Time | undefined {
  const m = RFC3339_RE.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]!.replace(/[t ]/, 'T')}${m[3]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return { sec: ms / 1000, nsec: Number(`${m[2] ?? ''}000000000`.slice(0, 9)) };
}

/**
 * The time a record's `time` value stands for, or `undefined` when it is no time fleetline can
 * read (the key then stays in the record and the event is stamped with the receive time).
 * Check the result with `isStorableTime`: absurd values are the caller's 400.
 */
export function timeFromValue(v: unknown): Time | undefined {
  if (v instanceof EventTimeValue) return { sec: v.sec, nsec: v.nsec };
  if (typeof v === 'number') return fromEpochNumber(v);
  if (typeof v === 'string') return parseEpochSeconds(v) ?? parseRfc3339(v);
  return undefined;
}

export function timeFromMs(ms: number): Time {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

function negate(whole: number, frac: number): Time {
  return frac === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1_000_000_000 - frac };
}

/**
 * Epoch milliseconds of an RFC 3339 time (as the schemas' `date-time` format accepts it), or
 * NaN when it is none. RFC 3339 allows a leap second (`23:59:60`), which `Date` cannot hold:
 * it is read as the following second, as POSIX time counts it.
 */
export function rfc3339Ms(text: string): number {
  const ms = Date.parse(text);
  if (!Number.isNaN(ms)) return ms;
  const leap = /^(.*[Tt ][0-9]{2}:[0-9]{2}:)60(.*)$/.exec(text);
  return leap ? Date.parse(`${leap[1]}59${leap[2]}`) + 1000 : Number.NaN;
}

/** False for epoch milliseconds that are not a time InfluxDB can store. */
export function isStorableMs(ms: number): boolean {
  return Number.isFinite(ms) && isStorableTime({ sec: Math.floor(ms / 1000), nsec: 0 });
}

/** False for times InfluxDB cannot store (nanoseconds beyond int64). */
export function isStorableTime(t: Time): boolean {
  return Number.isSafeInteger(t.sec) && Math.abs(t.sec) <= MAX_ABS_SEC;
}
