/**
 * Durations in configuration are written as `500ms`, `10s`, `5m`, `2h` or `7d`.
 * The schema checks the shape (`DURATION_PATTERN`); `parseDuration` turns one into milliseconds.
 *
 * A duration may also carry bounds (`minDuration` / `maxDuration` in the schema, checked by
 * the loader with the key path): most durations feed a Node timer, and a timer cannot wait
 * longer than 2^31 − 1 ms (~24.8 days): a longer delay fires after 1 ms, so `idle_timeout: 30d`
 * would close every connection at once. `TIMER_MAX` is the largest round value below that.
 */
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$';

/** The longest duration a Node timer can wait, in the configuration's own notation. */
export const TIMER_MAX = '24d';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m)
    throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 10s, 5m, 2h, 7d)`);
  return Math.round(Number(m[1]) * (UNIT_MS[m[2]!] ?? 1));
}
