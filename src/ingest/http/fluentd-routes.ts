/**
 * fluentd over HTTP: `POST /fluentd/<tag>` with the bodies fluentd's `out_http` sends and
 * `in_http` accepts (see fluentd-body.ts), optionally gzip/deflate-compressed.
 *
 * Tag: the path after `/fluentd/`; dots are kept and further slashes become dots, as in_http
 * does (`/fluentd/app/web` → `app.web`). Time, as in_http: the `time` parameter (query or
 * form; epoch seconds, fraction allowed, `0` means now) wins; otherwise a record's own `time`
 * key is taken out of the record and used when it reads as a time (epoch seconds, RFC 3339,
 * msgpack EventTime); otherwise the receive time.
 *
 * Answers: 200 (empty body, like in_http) only after `downstream.consume()` resolved;
 * 400 naming the line/record; 413 over `http.max_body_bytes` (on the wire or decompressed) or
 * over `maxEntriesPerRequest` records;
 * 415 for an unknown Content-Type; 503 + Retry-After when fleetline is full.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CapacityProbe, Consumer } from '../../core/consumer.ts';
import type { Deps } from '../../core/deps.ts';
import type { Entry } from '../../core/entry.ts';
import { BackpressureError, InvalidInputError } from '../../core/errors.ts';
import { type Rejection, rejectionFor } from './errors.ts';
import {
  isStorableTime,
  parseEpochSeconds,
  type Time,
  timeFromMs,
  timeFromValue,
} from './event-time.ts';
import { decodeFluentdBody, fluentdFormatFor, toRecordValue } from './fluentd-body.ts';
import { inputTelemetry } from './input-telemetry.ts';
import { peerAddress } from './peer-address.ts';
import { queryParam } from './query-param.ts';
import { acceptRawBodies } from './raw-body-parser.ts';
import { decodeBody } from './request-body.ts';
import { DEFAULT_MAX_ENTRIES_PER_REQUEST } from './request-limits.ts';

export interface FluentdRoutesOptions {
  downstream: Consumer;
  capacity?: CapacityProbe;
  /** Largest decompressed body (http.max_body_bytes); larger is 413. */
  maxBodyBytes: number;
  /** Most records in one request (default 1,000,000); more is 413. */
  maxEntriesPerRequest?: number;
}

const TAG_RE = /^[^\s]+$/;

export function fluentdRoutes(deps: Deps, opts: FluentdRoutesOptions): FastifyPluginAsync {
  const telemetry = inputTelemetry(deps, 'fluentd');
  const maxRecords = opts.maxEntriesPerRequest ?? DEFAULT_MAX_ENTRIES_PER_REQUEST;

  const fail = (req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const r = rejectionFor(err);
    telemetry.rejected(r, peerAddress(req.socket.remoteAddress));
    return send(reply, r);
  };

  return async (app) => {
    acceptRawBodies(app);
    app.setErrorHandler((err, req, reply) => fail(req, reply, err));

    app.post(
      '/fluentd/*',
      {
        onRequest: async (req, reply) => {
          if (opts.capacity && !opts.capacity.hasCapacity())
            return fail(req, reply, new BackpressureError());
        },
      },
      async (req, reply) => {
        try {
          const raw = req.body as Buffer | undefined;
          telemetry.received(raw?.length ?? 0);
          const tag = tagFromPath((req.params as Record<string, string>)['*'] ?? '');
          const format = fluentdFormatFor(req.headers['content-type']);
          const body = await decodeBody(raw, req.headers['content-encoding'], opts.maxBodyBytes);
          if (body.length === 0) throw new InvalidInputError('body is empty: no records');
          const decoded = decodeFluentdBody(body, format, maxRecords);
          const paramTime = timeParam(
            queryParam(req.query, 'time') ?? decoded.params.time,
            deps.clock.now(),
          );
          const receivedAt = deps.clock.now();
          const entries = toEntries(tag, decoded.records, paramTime, receivedAt);
          if (entries.length === 0) throw new InvalidInputError('body holds no records');
          await opts.downstream.consume({
            entries,
            origin: { input: 'http-fluentd', peerAddress: peerAddress(req.socket.remoteAddress) },
            receivedAt,
          });
          telemetry.accepted(entries.length);
          return reply.code(200).send();
        } catch (err) {
          return fail(req, reply, err);
        }
      },
    );
  };
}

function tagFromPath(path: string): string {
  const tag = path.split('/').filter(Boolean).join('.');
  if (tag === '') throw new InvalidInputError('path: the tag is missing (POST /fluentd/<tag>)');
  if (!TAG_RE.test(tag))
    throw new InvalidInputError(`path: tag ${JSON.stringify(tag)} contains whitespace`);
  return tag;
}

/** in_http: a `time` parameter of 0 means "now"; anything unreadable is the client's error. */
function timeParam(value: string | undefined, nowMs: number): Time | undefined {
  if (value === undefined || value === '') return undefined;
  const t = parseEpochSeconds(value);
  if (!t) throw new InvalidInputError(`query.time: not epoch seconds: ${JSON.stringify(value)}`);
  if (t.sec === 0 && t.nsec === 0) return timeFromMs(nowMs);
  if (!isStorableTime(t))
    throw new InvalidInputError(`query.time: ${value} is out of the storable time range`);
  return t;
}

function toEntries(
  tag: string,
  records: Array<Record<string, unknown>>,
  paramTime: Time | undefined,
  nowMs: number,
): Entry[] {
  const now = timeFromMs(nowMs);
  // The first five problems worded, the rest counted (a million bad records must not make a
  // million messages).
  const errors: string[] = [];
  let bad = 0;
  const problem = (message: () => string) => {
    if (bad++ < 5) errors.push(message());
  };
  const entries: Entry[] = [];
  records.forEach((record, i) => {
    let time = paramTime;
    if (!time && 'time' in record) {
      const t = timeFromValue(record.time);
      if (t && !isStorableTime(t)) {
        problem(() => `record ${i + 1}: time ${String(record.time)} is out of the storable range`);
        return;
      }
      if (t) {
        time = t;
        delete record.time;
      }
    }
    time ??= now;
    let fields: Entry['record'];
    try {
      fields = toRecordValue(record) as Entry['record'];
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      problem(() => `record ${i + 1}: ${err.message}`);
      return;
    }
    entries.push({ tag, sec: time.sec, nsec: time.nsec, record: fields });
  });
  if (bad > 0)
    throw new InvalidInputError(
      errors.join('; ') + (bad > errors.length ? `; … and ${bad - errors.length} more` : ''),
    );
  return entries;
}

function send(reply: FastifyReply, r: Rejection) {
  if (r.retryAfterSec !== undefined) reply.header('retry-after', String(r.retryAfterSec));
  return reply.code(r.status).send({ error: r.reason, message: r.message });
}
