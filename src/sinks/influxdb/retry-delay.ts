/**
 * The writer's retry delay: exponential backoff from `min` doubling per attempt, capped at
 * `max`, with "equal jitter" (half fixed, half random) so that several fleetline instances that
 * lost the same InfluxDB do not come back in lock-step. A server's `Retry-After` replaces the
 * exponential part (plus up to 10 % jitter), still capped at `max` and never below the shortest
 * exponential delay (`min / 2`): the server knows best when it can take data again, but a
 * misbehaving header must neither park the writer for hours nor make it retry back to back.
 */
export interface RetryDelayOptions {
  minMs: number;
  maxMs: number;
  /** Returns [0, 1); injectable for tests. */
  random?: () => number;
}

export function retryDelay(
  attempt: number,
  opts: RetryDelayOptions,
  retryAfterMs?: number,
): number {
  const random = opts.random ?? Math.random;
  // Never below the shortest exponential delay (half of min): `Retry-After: 0`, or a date in
  // the past, on every answer would otherwise have the writer retry back to back.
  if (retryAfterMs !== undefined)
    return Math.min(
      opts.maxMs,
      Math.max(Math.round(opts.minMs / 2), Math.round(retryAfterMs * (1 + 0.1 * random()))),
    );
  const exp = Math.min(opts.maxMs, opts.minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}
