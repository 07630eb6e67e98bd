/**
 * Timestamp precisions of InfluxDB line protocol and how a raw integer timestamp in one of
 * them becomes the entry's exact `sec` + `nsec`.
 *
 * v1 `/write` accepts `n`/`ns`, `u`/`µ`/`us`, `ms`, `s`, `m`, `h`; v2 `/api/v2/write` accepts
 * `ns`, `us`, `ms`, `s`. Conversion works on the decimal digits (or bigint for the rare
 * negative / minute / hour cases) because epoch nanoseconds do not fit a JS number.
 */

export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

const V1: Record<string, Precision> = {
  n: 'ns',
  ns: 'ns',
  u: 'us',
  µ: 'us',
  us: 'us',
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
};
const V2: Record<string, Precision> = { ns: 'ns', us: 'us', ms: 'ms', s: 's' };

/** The precision named by a v1 `precision` parameter; `undefined` when it is not one. */
export function v1Precision(param: string | undefined): Precision | undefined {
  return param === undefined || param === '' ? 'ns' : V1[param];
}

/** The precision named by a v2 `precision` parameter; `undefined` when it is not one. */
export function v2Precision(param: string | undefined): Precision | undefined {
  return param === undefined || param === '' ? 'ns' : V2[param];
}

/** Decimal zeros to append to go from the precision to nanoseconds (power-of-ten ones). */
const ZEROS: Record<Precision, string | undefined> = {
  ns: '',
  us: '000',
  ms: '000000',
  s: '000000000',
  m: undefined,
  h: undefined,
};
const NS_PER: Record<Precision, bigint> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** InfluxDB's valid time range (models.MinNanoTime / MaxNanoTime). */
export const MIN_NS = -9_223_372_036_854_775_806n;
export const MAX_NS = 9_223_372_036_854_775_806n;
const MAX_NS_DIGITS = MAX_NS.toString();

/**
 * `digits` is an optionally negative decimal integer (already validated). Returns the time
 * or `undefined` when it lies outside InfluxDB's range.
 */
export function timestampToTime(
  digits: string,
  precision: Precision,
): { sec: number; nsec: number } | undefined {
  const zeros = ZEROS[precision];
  // Fast path: non-negative, power-of-ten precision, inside the range (decimal digits compare
  // like numbers at equal length). Epoch ns today are 19 digits, so this is the common case.
  if (zeros !== undefined && digits.charCodeAt(0) !== 45) {
    const ns = digits + zeros;
    if (ns.length < 19 || (ns.length === 19 && ns <= MAX_NS_DIGITS)) {
      const cut = ns.length - 9;
      return cut > 0
        ? { sec: Number(ns.slice(0, cut)), nsec: Number(ns.slice(cut)) }
        : { sec: 0, nsec: Number(ns) };
    }
  }
  // No time in range has more than 19 significant digits; BigInt() of millions of them costs
  // seconds, so those are out of range before any conversion.
  if (significantDigits(digits) > 19) return undefined;
  const ns = BigInt(digits) * NS_PER[precision];
  if (ns < MIN_NS || ns > MAX_NS) return undefined;
  return nsToTime(ns);
}

/** Digits of an optionally negative decimal integer, not counting its sign and leading zeros. */
export function significantDigits(digits: string): number {
  let i = digits.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48 /* 0 */) i++;
  return digits.length - i;
}

/** Splits epoch nanoseconds into seconds (floored) and a non-negative nanosecond part. */
export function nsToTime(ns: bigint): { sec: number; nsec: number } {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += 1_000_000_000n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** "now" truncated to the precision, as InfluxDB stamps points that carry no timestamp. */
export function nowAt(nowMs: number, precision: Precision): { sec: number; nsec: number } {
  const ns = BigInt(Math.floor(nowMs)) * 1_000_000n;
  const step = NS_PER[precision];
  return nsToTime(ns - (((ns % step) + step) % step));
}
