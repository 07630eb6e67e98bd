/**
 * What a simulated instance logs: access logs (method, path, status, reqtime), application logs
 * with levels, and a few metrics — the shapes a fluentd agent ships from a web fleet.
 * A regression (`--regress web@1.4.3:latency=+40%`) makes one role+version slower or more
 * error-prone so the before/after tooling has something to find.
 */
import type { Rng } from './random.ts';
import type { SimInstance } from './scenario.ts';

export interface Regression {
  role: string;
  version: string;
  /** Multiplier on latency, e.g. 1.4 for +40%. */
  latency: number;
  /** Multiplier on the error ratio. */
  errors: number;
}

export interface TrafficSpec {
  /** Base probability of a 5xx answer. */
  errorRatio: number;
  /** Median request time in seconds. */
  medianReqtime: number;
  regressions: Regression[];
  /** Put role/version in the records, as the recommended agent config does. */
  labelsInRecords: boolean;
}

export interface SimRecord {
  tag: string;
  record: Record<string, string | number>;
}

const PATHS = ['/', '/api/items', '/api/items/42', '/login', '/search', '/static/app.js'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const MESSAGES = {
  info: ['request served', 'cache refreshed', 'connection pool resized'],
  warn: ['slow upstream', 'retrying request', 'queue above watermark'],
  error: ['upstream timeout', 'database connection refused', 'unhandled exception'],
};

/** Parses `role@version:latency=+40%,errors=x2`. */
export function parseRegression(text: string): Regression {
  const m = /^([^@\s]+)@([^:\s]+):(.+)$/.exec(text);
  if (!m) throw new Error(`--regress ${text}: expected role@version:latency=+40%`);
  const r: Regression = { role: m[1]!, version: m[2]!, latency: 1, errors: 1 };
  for (const part of m[3]!.split(',')) {
    const kv = /^(latency|errors)=(?:([+-]\d+(?:\.\d+)?)%|x(\d+(?:\.\d+)?))$/.exec(part.trim());
    if (!kv)
      throw new Error(`--regress ${text}: cannot read "${part}" (use latency=+40% or errors=x2)`);
    const factor = kv[2] !== undefined ? 1 + Number(kv[2]) / 100 : Number(kv[3]);
    if (kv[1] === 'latency') r.latency = factor;
    else r.errors = factor;
  }
  return r;
}

export function recordsFor(inst: SimInstance, n: number, spec: TrafficSpec, rng: Rng): SimRecord[] {
  const reg = spec.regressions.find((r) => r.role === inst.role && r.version === inst.version);
  const latency = reg?.latency ?? 1;
  const errorRatio = Math.min(1, spec.errorRatio * (reg?.errors ?? 1));
  const base: Record<string, string> = { instance_id: inst.instanceId };
  if (spec.labelsInRecords) {
    base.role = inst.role;
    base.version = inst.version;
  }
  const out: SimRecord[] = [];
  for (let i = 0; i < n; i++) {
    const roll = rng.next();
    if (roll < 0.8) {
      const failed = rng.next() < errorRatio;
      const status = failed
        ? rng.pick([500, 502, 503])
        : rng.next() < 0.05
          ? rng.pick([404, 401])
          : 200;
      // Log-normal request times: a realistic long tail.
      const reqtime = spec.medianReqtime * latency * Math.exp(0.5 * rng.normal());
      out.push({
        tag: 'app.access',
        record: {
          ...base,
          method: rng.pick(METHODS),
          path: rng.pick(PATHS),
          status,
          reqtime: Math.round(reqtime * 1e6) / 1e6,
          bytes: rng.int(200, 20_000),
        },
      });
    } else if (roll < 0.97) {
      const level = rng.next() < errorRatio * 2 ? 'error' : rng.next() < 0.1 ? 'warn' : 'info';
      out.push({ tag: 'app.log', record: { ...base, level, message: rng.pick(MESSAGES[level]) } });
    } else {
      out.push({
        tag: 'app.metrics',
        record: { ...base, cpu: Math.round(rng.next() * 1000) / 10, mem_mb: rng.int(300, 900) },
      });
    }
  }
  return out;
}
