/**
 * Readiness: a list of named checks, each answering "can fleetline do its job right now?".
 * `GET /readyz` is 200 only when every check passes, else 503 with the failing reasons.
 */
export interface ReadinessCheck {
  name: string;
  /** Resolves to `undefined` when ready, or a human-readable reason when not. */
  check(): Promise<string | undefined> | string | undefined;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; reason?: string }>;
}

export async function evaluateReadiness(
  checks: readonly ReadinessCheck[],
): Promise<ReadinessReport> {
  const report: ReadinessReport = { ready: true, checks: {} };
  await Promise.all(
    checks.map(async (c) => {
      let reason: string | undefined;
      try {
        reason = await c.check();
      } catch (err) {
        reason = failureReason(err);
      }
      report.checks[c.name] = reason === undefined ? { ok: true } : { ok: false, reason };
      if (reason !== undefined) report.ready = false;
    }),
  );
  return report;
}

/**
 * What a thrown check says. Always a string: reading `.message` of a thrown string or
 * `undefined` gave `undefined`, which is how a check reports *ready*.
 */
function failureReason(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string' && err !== '') return err;
  return 'check failed';
}
