/**
 * Retry delay for a consumer whose delivery failed: exponential, capped, with "equal jitter"
 * (half fixed, half random) so that a consumer never hammers a sink that is down, and several
 * consumers failing together do not retry in lock-step. Pure: the caller passes the random
 * draw, which keeps the function testable.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (1 = first retry); `random` is in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const exp = policy.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(policy.maxMs, exp);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
