/**
 * The writer's retry delay: exponential backoff from `min` doubling per attempt, capped at
 * `max`, with "equal jitter" (half fixed, half random) so that several fleetline instances that
 * lost the same InfluxDB do not come back in lock-step. A server's `Retry-After` replaces the
 * exponential part (plus up to 10 % jitter), still capped at `max`: the server knows best when
 * it can take data again, but a misbehaving header must not park the writer for hours.
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
  if (retryAfterMs !== undefined)
    return Math.min(opts.maxMs, Math.round(retryAfterMs * (1 + 0.1 * random())));
  const exp = Math.min(opts.maxMs, opts.minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}
