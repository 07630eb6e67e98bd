/**
 * `GET /api/dead-letters?limit=&before=` — the lines InfluxDB refused for good (400 partial
 * write: field type conflict, cardinality limit, parse error), most recently refused first,
 * with the server's reason and how often each was refused. Counted in
 * `fleetline_influxdb_dead_letters_total`; this is where an operator reads *why*.
 *
 * The table is bounded (`influxdb.dead_letters`): the answer says how much it holds, its
 * bounds, and how many dead letters the bounds pruned since the service started, so a short
 * list never hides that more was refused. A full page carries `next`, an opaque cursor: pass
 * it as `before` for the following page. A line refused again while paging moves to the front
 * (it is the most recent again), so it may be missing from the later pages.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { InfluxWriter } from '../sinks/influxdb/writer.ts';

const MAX_LIMIT = 1000;
/** `<last refused, ms since the epoch>.<row id>` of a page's last dead letter. */
const CURSOR = /^(\d{1,15})\.(\d{1,15})$/;

export function deadLetterRoutes(opts: {
  writer?: Pick<InfluxWriter, 'deadLetters' | 'deadLetterStats'>;
}): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/dead-letters', async (req, reply) => {
      const query = req.query as Record<string, unknown>;
      const raw = query.limit;
      const limit = raw === undefined ? 100 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return reply.code(400).send({ error: `limit: must be an integer 1…${MAX_LIMIT}` });
      }
      let before: { lastAt: number; id: number } | undefined;
      if (query.before !== undefined) {
        const m = typeof query.before === 'string' ? CURSOR.exec(query.before) : null;
        if (!m) return reply.code(400).send({ error: "before: must be a page's `next` value" });
        before = { lastAt: Number(m[1]), id: Number(m[2]) };
      }
      if (!opts.writer) return { influxdb: false, dead_letters: [] };
      const stats = opts.writer.deadLetterStats();
      const page = opts.writer.deadLetters(limit, before);
      const last = page.length === limit ? page.at(-1) : undefined;
      return {
        influxdb: true,
        stored: { rows: stats.rows, bytes: stats.bytes },
        limits: stats.limits,
        pruned_since_start: stats.pruned,
        ...(last ? { next: `${last.lastAt}.${last.id}` } : {}),
        dead_letters: page.map((d) => ({
          measurement: d.measurement,
          reason: d.reason,
          count: d.count,
          first_at: new Date(d.firstAt).toISOString(),
          last_at: new Date(d.lastAt).toISOString(),
          line: d.line,
        })),
      };
    });
  };
}
