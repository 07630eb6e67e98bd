/**
 * `GET /api/dead-letters?limit=` — the lines InfluxDB refused for good (400 partial write:
 * field type conflict, cardinality limit, parse error), newest first, with the server's reason
 * and how often each was refused. Counted in `fleetline_influxdb_dead_letters_total`; this is
 * where an operator reads *why*.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { InfluxWriter } from '../sinks/influxdb/writer.ts';

const MAX_LIMIT = 1000;

export function deadLetterRoutes(opts: {
  writer?: Pick<InfluxWriter, 'deadLetters'>;
}): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/dead-letters', async (req, reply) => {
      const raw = (req.query as Record<string, unknown>).limit;
      const limit = raw === undefined ? 100 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return reply.code(400).send({ error: `limit: must be an integer 1…${MAX_LIMIT}` });
      }
      if (!opts.writer) return { influxdb: false, dead_letters: [] };
      return {
        influxdb: true,
        dead_letters: opts.writer.deadLetters(limit).map((d) => ({
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
