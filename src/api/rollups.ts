/**
 * `GET /api/rollups` — the role rollups kept in the embedded store, for tooling and for checking
 * what fleetline wrote to InfluxDB without InfluxDB.
 *
 *   ?role=web&version=1.4.2   optional filters (exact match)
 *   ?since=…&until=…          interval starts in [since, until); RFC 3339 or epoch ms;
 *                             default the last hour
 *   ?limit=…                  1…10000 (default 10000); `truncated` says when more matched
 *
 * A query decodes at most MAX_QUERY_BUCKETS sketch buckets (each row's numeric fields are a
 * sketch of up to 2,048): past that it answers the rows decoded so far with `truncated: true`
 * and `truncated_by: "decode_budget"` (`"limit"` when the limit cut it) — narrow the range or
 * filter by role/version, or continue from the last row's time.
 *
 * Answers 400 with `{ error }` naming the bad parameter.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../core/deps.ts';
import { MAX_QUERY_ROWS, type RollupEngine } from '../rollup/engine.ts';

const DEFAULT_WINDOW_MS = 3_600_000;

type Query = Record<string, string | string[] | undefined>;

export function rollupApiRoutes(
  deps: Deps,
  opts: { engine: Pick<RollupEngine, 'query'> },
): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/rollups', async (req, reply) => {
      const q = (req.query ?? {}) as Query;
      const parsed = parseParams(q, deps.clock.now());
      if (typeof parsed === 'string') return reply.code(400).send({ error: parsed });
      const rows = opts.engine.query({ ...parsed, limit: parsed.limit + 1 });
      const truncatedBy =
        rows.length > parsed.limit ? 'limit' : rows.budgetExhausted ? 'decode_budget' : undefined;
      return {
        since: new Date(parsed.since).toISOString(),
        until: new Date(parsed.until).toISOString(),
        truncated: truncatedBy !== undefined,
        ...(truncatedBy && { truncated_by: truncatedBy }),
        rollups: rows.slice(0, parsed.limit).map((r) => ({
          time: new Date(r.startMs).toISOString(),
          start_ms: r.startMs,
          role: r.role,
          version: r.version,
          measurement: r.measurement,
          emitted: r.emitted,
          fields: r.fields,
        })),
      };
    });
  };
}

interface Params {
  role?: string;
  version?: string;
  since: number;
  until: number;
  limit: number;
}

/** Returns the parameters, or the message of the first bad one. */
function parseParams(q: Query, now: number): Params | string {
  for (const [k, v] of Object.entries(q))
    if (Array.isArray(v)) return `${k}: give it once, not ${v.length} times`;
  const known = new Set(['role', 'version', 'since', 'until', 'limit']);
  for (const k of Object.keys(q)) if (!known.has(k)) return `${k}: unknown parameter`;
  const out: Params = { since: 0, until: now, limit: MAX_QUERY_ROWS };
  for (const k of ['role', 'version'] as const) {
    const v = q[k] as string | undefined;
    if (v === undefined) continue;
    if (v === '') return `${k}: must not be empty`;
    out[k] = v;
  }
  if (q.until !== undefined) {
    const t = parseTime(q.until as string);
    if (t === undefined) return 'until: must be RFC 3339 (2026-11-27T12:00:00Z) or epoch ms';
    out.until = t;
  }
  if (q.since !== undefined) {
    const t = parseTime(q.since as string);
    if (t === undefined) return 'since: must be RFC 3339 (2026-11-27T12:00:00Z) or epoch ms';
    out.since = t;
  } else out.since = out.until - DEFAULT_WINDOW_MS;
  if (out.since >= out.until) return 'since: must be before until';
  if (q.limit !== undefined) {
    const n = /^[0-9]{1,6}$/.test(q.limit as string) ? Number(q.limit) : Number.NaN;
    if (!(n >= 1 && n <= MAX_QUERY_ROWS)) return `limit: must be an integer 1…${MAX_QUERY_ROWS}`;
    out.limit = n;
  }
  return out;
}

function parseTime(text: string): number | undefined {
  if (/^[0-9]{1,15}$/.test(text)) return Number(text);
  // Date.parse accepts much more than RFC 3339; insist on the date-time shape with a zone.
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(
    text,
  );
  if (!m) return undefined;
  // ...and on a day and hour that exist: V8 reads 2026-02-30 as March 2 and T24:00 as the
  // next day, which would answer for a range the caller did not ask for.
  const [year, month, day, hour] = [m[1], m[2], m[3], m[4]].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23)
    return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
