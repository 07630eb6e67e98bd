/**
 * For warnings whose cause can repeat on every record or request (a hostile client, a broken
 * agent): the counter counts every occurrence, the log says so at most once per interval.
 * The first call is always let through.
 */
export function logThrottle(intervalMs: number, now: () => number): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const t = now();
    if (t - last < intervalMs) return false;
    last = t;
    return true;
  };
}
