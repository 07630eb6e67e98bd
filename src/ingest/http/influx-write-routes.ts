/**
 * InfluxDB line protocol over HTTP, so Telegraf and any InfluxDB client can write through
 * fleetline:
 *
 *   POST /write          v1: db (required), rp, precision n|ns|u|µ|us|ms|s|m|h; u/p: see below
 *   POST /api/v2/write   v2: bucket (required), org, precision ns|us|ms|s
 *   GET|HEAD /ping       204, as InfluxDB answers clients probing it
 *   POST /query          only `CREATE DATABASE …` (Telegraf and v1 clients issue it at start)
 *                        answers success; every other statement is 400: fleetline only writes
 *
 * With `http.token` set, /write and /query take the token as InfluxDB 2.x's v1 API does (basic
 * auth password or `p`, any username), /api/v2/write as `Authorization: Token|Bearer` or basic
 * auth, and /ping is open (src/server/auth.ts).
 *
 * Each point becomes an Entry { tag: measurement, sec, nsec, record: fields, tags } with origin
 * input `influx-v1`/`influx-v2` and database = db or bucket. gzip/deflate bodies are accepted
 * (the JS client and Telegraf compress).
 *
 * More than `maxEntriesPerRequest` points (default 1,000,000) is 413 and stores nothing.
 * Parse errors follow InfluxDB 1.x on both endpoints: the valid lines are accepted, and the
 * answer is 400 naming the bad lines (`partial write: …`), so a client does not retry a batch
 * of which most is already stored. Success is 204 after `downstream.consume()` resolved.
 * Errors are shaped as each API's clients expect: v1 `{"error": "..."}` (+ X-Influxdb-Error),
 * v2 `{"code": "invalid", "message": "..."}`.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CapacityProbe, Consumer } from '../../core/consumer.ts';
import type { Deps } from '../../core/deps.ts';
import { BackpressureError, InvalidInputError } from '../../core/errors.ts';
import { parseLineProtocol } from '../line-protocol/parse.ts';
import { type Precision, v1Precision, v2Precision } from '../line-protocol/precision.ts';
import { type Rejection, rejectionFor } from './errors.ts';
import { type InputTelemetry, inputTelemetry } from './input-telemetry.ts';
import { peerAddress } from './peer-address.ts';
import { queryParam } from './query-param.ts';
import { acceptRawBodies } from './raw-body-parser.ts';
import { decodeBody } from './request-body.ts';
import { DEFAULT_MAX_ENTRIES_PER_REQUEST, tooManyEntries } from './request-limits.ts';

export interface InfluxWriteRoutesOptions {
  downstream: Consumer;
  capacity?: CapacityProbe;
  /** Largest decompressed body (http.max_body_bytes); larger is 413. */
  maxBodyBytes: number;
  /** Most points in one request (default 1,000,000); more is 413. */
  maxEntriesPerRequest?: number;
}

type Api = 'v1' | 'v2';

/** How many bad lines a 400 names before "… and N more". */
const NAMED_ERRORS = 10;

const V2_CODES: Record<number, string> = {
  400: 'invalid',
  413: 'request too large',
  415: 'unsupported media type',
  500: 'internal error',
  503: 'unavailable',
};

export function influxWriteRoutes(deps: Deps, opts: InfluxWriteRoutesOptions): FastifyPluginAsync {
  const telemetry: Record<Api, InputTelemetry> = {
    v1: inputTelemetry(deps, 'influx-v1'),
    v2: inputTelemetry(deps, 'influx-v2'),
  };
  const maxEntries = opts.maxEntriesPerRequest ?? DEFAULT_MAX_ENTRIES_PER_REQUEST;
  const apiOf = (req: FastifyRequest): Api => (req.url.startsWith('/api/v2/') ? 'v2' : 'v1');

  const fail = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const api = apiOf(req);
    const r = rejectionFor(err);
    telemetry[api].rejected(r, peerAddress(req.socket.remoteAddress));
    return sendError(reply, api, r);
  };

  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    if (opts.capacity && !opts.capacity.hasCapacity())
      return fail(req, reply, new BackpressureError());
  };

  const write = async (req: FastifyRequest, reply: FastifyReply) => {
    const api = apiOf(req);
    try {
      const raw = req.body as Buffer | undefined;
      telemetry[api].received(raw?.length ?? 0);
      const database = queryParam(req.query, api === 'v1' ? 'db' : 'bucket');
      const precisionParam = queryParam(req.query, 'precision');
      if (!database)
        throw new InvalidInputError(api === 'v1' ? 'database is required' : 'bucket is required');
      const precision: Precision | undefined =
        api === 'v1' ? v1Precision(precisionParam) : v2Precision(precisionParam);
      if (!precision)
        throw new InvalidInputError(
          `invalid precision ${JSON.stringify(precisionParam)} (use ${api === 'v1' ? 'n, ns, u, µ, us, ms, s, m or h' : 'ns, us, ms or s'})`,
        );
      const body = await decodeBody(raw, req.headers['content-encoding'], opts.maxBodyBytes);
      if (!isUtf8(body)) throw new InvalidInputError('body is not valid UTF-8');
      const receivedAt = deps.clock.now();
      const parsed = parseLineProtocol(body.toString('utf8'), {
        precision,
        nowMs: receivedAt,
        maxErrors: NAMED_ERRORS,
        maxEntries,
      });
      if (parsed.tooManyEntries) throw tooManyEntries(maxEntries, 'points');
      if (parsed.entries.length > 0) {
        await opts.downstream.consume({
          entries: parsed.entries,
          origin: {
            input: api === 'v1' ? 'influx-v1' : 'influx-v2',
            peerAddress: peerAddress(req.socket.remoteAddress),
            database,
          },
          receivedAt,
        });
        telemetry[api].accepted(parsed.entries.length);
      }
      if (parsed.errorCount > 0) {
        const named = parsed.errors.map((e) => e.message).join('; ');
        const more =
          parsed.errorCount > parsed.errors.length
            ? `; … and ${parsed.errorCount - parsed.errors.length} more`
            : '';
        const lead =
          parsed.entries.length > 0
            ? `partial write: ${parsed.errorCount} line(s) rejected, ${parsed.entries.length} accepted: `
            : 'unable to parse: ';
        throw new InvalidInputError(`${lead}${named}${more}`);
      }
      return reply.code(204).send();
    } catch (err) {
      return fail(req, reply, err);
    }
  };

  return async (app) => {
    acceptRawBodies(app);
    app.setErrorHandler((err, req, reply) => fail(req, reply, err));
    // Credentials as each API's clients send them (src/server/auth.ts): v1 also takes `p`.
    app.post('/write', { onRequest, config: { auth: 'influx-v1' } }, write);
    app.post('/api/v2/write', { onRequest, config: { auth: 'influx-v2' } }, write);
    // Open, as InfluxDB's /ping is: clients and probes check liveness without credentials.
    app.get('/ping', { config: { auth: 'open' } }, async (_req, reply) =>
      reply.code(204).header('x-influxdb-version', 'fleetline').send(),
    );
    app.post('/query', { config: { auth: 'influx-v1' } }, async (req, reply) => {
      const form = new URLSearchParams((req.body as Buffer | undefined)?.toString('utf8') ?? '');
      const q = (queryParam(req.query, 'q') ?? form.get('q') ?? '').trim();
      // The database is fleetline's routing hint, not a store of its own: nothing to create.
      if (/^CREATE\s+DATABASE\s/i.test(q) && !q.includes(';'))
        return reply.code(200).send({ results: [{ statement_id: 0 }] });
      return reply.code(400).send({
        error: 'fleetline accepts writes only (CREATE DATABASE is answered); query InfluxDB itself',
      });
    });
  };
}

function sendError(reply: FastifyReply, api: Api, r: Rejection) {
  if (r.retryAfterSec !== undefined) reply.header('retry-after', String(r.retryAfterSec));
  reply.code(r.status);
  if (api === 'v1') {
    // Header values cannot hold newlines; clients fall back to it when the body is empty.
    reply.header('x-influxdb-error', r.message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 1000));
    return reply.send({ error: r.message });
  }
  return reply.send({ code: V2_CODES[r.status] ?? 'invalid', message: r.message });
}
