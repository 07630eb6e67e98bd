/**
 * The fleet API (fastify plugin): what the registry knows and what the tracker saw.
 *
 *   GET /api/roles                         role → versions, live members, slots
 *   GET /api/instances?role=&live=         instances (live=true|false; both when absent)
 *   GET /api/events?role=&kind=&since=&until=&limit=&cursor=
 *                                          lifecycle events in the order they were
 *                                          recorded (each with its `seq`), paginated:
 *                                          `next_cursor` (present while more wait) and
 *                                          `follow_cursor` (always) are passed back as
 *                                          `cursor` for what was recorded after this page
 *
 * Times in and out are epoch milliseconds (`since`/`until` also take ISO 8601). A bad
 * parameter answers 400 `{ error: 'bad_parameter', parameter, message }`.
 *
 * The events cursor is a position in the event store's insertion sequence
 * (src/fleet/event-store.ts), so a follower never misses an event recorded late with an earlier
 * event time. Cursors of the older format (event time, id) cannot be resumed exactly — that
 * format is what skipped late events — and answer 400 saying to start again.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Deps } from '../core/deps.ts';
import { EventCursorError, type EventPosition, type EventStore } from '../fleet/event-store.ts';
import type { LifecycleEventKind } from '../fleet/lifecycle-event.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import { counter } from '../telemetry/metrics.ts';

export interface FleetApiParts {
  registry: Pick<FleetRegistry, 'roles' | 'instances'>;
  events: Pick<EventStore, 'query'>;
}

const KINDS: readonly LifecycleEventKind[] = [
  'launch',
  'terminate',
  'replace',
  'rollout_start',
  'rollout_progress',
  'rollout_finish',
  'deploy',
];
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** A cursor of the format before the insertion sequence: [event time, id]. */
class OldCursor extends Error {
  readonly reason = 'old_format';
  constructor() {
    super(
      'cursor is from an older fleetline that paged by event time and could skip events recorded late; it cannot be resumed exactly: start again without cursor (since= limits how far back)',
    );
  }
}

type Query = Record<string, unknown>;

const one = (q: Query, name: string): string | undefined => {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadParameter(name, `${name} may be given once`);
  return v;
};

const time = (q: Query, name: string): number | undefined => {
  const v = one(q, name);
  if (v === undefined) return undefined;
  const ms = /^-?[0-9]+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms))
    throw new BadParameter(name, `${name} must be epoch milliseconds or an ISO 8601 time`);
  return ms;
};

/** Opaque to clients: base64url of `{"feed":…,"seq":…}`. */
export const encodeCursor = (p: EventPosition): string =>
  Buffer.from(JSON.stringify({ feed: p.feed, seq: p.seq })).toString('base64url');

const decodeCursor = (text: string): EventPosition => {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const { feed, seq } = v as Record<string, unknown>;
    if (typeof feed === 'string' && Number.isSafeInteger(seq) && (seq as number) >= 0)
      return { feed, seq: seq as number };
  }
  // [time, id]: the cursor of fleetline versions that paged by event time.
  if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string')
    throw new OldCursor();
  throw new BadParameter('cursor', 'cursor is not one this API returned');
};

export function fleetApiRoutes(deps: Deps, parts: FleetApiParts): FastifyPluginAsync {
  const bad = counter(
    deps.metrics,
    'fleetline_api_bad_requests_total',
    'API requests answered 400',
    ['route'],
  );
  const answerBad = (reply: FastifyReply, route: string, err: unknown) => {
    if (!(err instanceof BadParameter)) throw err;
    bad.inc({ route });
    return reply
      .code(400)
      .send({ error: 'bad_parameter', parameter: err.parameter, message: err.message });
  };

  return async (app) => {
    app.get('/api/roles', async () => ({ roles: parts.registry.roles() }));

    app.get('/api/instances', async (req, reply) => {
      try {
        const q = req.query as Query;
        const role = one(q, 'role');
        const liveText = one(q, 'live');
        if (liveText !== undefined && liveText !== 'true' && liveText !== 'false')
          throw new BadParameter('live', 'live must be true or false');
        const instances = parts.registry.instances({
          ...(role !== undefined ? { role } : {}),
          ...(liveText !== undefined ? { live: liveText === 'true' } : {}),
        });
        return { instances };
      } catch (err) {
        return answerBad(reply, 'instances', err);
      }
    });

    app.get('/api/events', async (req, reply) => {
      try {
        const q = req.query as Query;
        const role = one(q, 'role');
        const kind = one(q, 'kind');
        if (kind !== undefined && !KINDS.includes(kind as LifecycleEventKind))
          throw new BadParameter('kind', `kind must be one of ${KINDS.join(', ')}`);
        const since = time(q, 'since');
        const until = time(q, 'until');
        if (since !== undefined && until !== undefined && until < since)
          throw new BadParameter('until', 'until must not be before since');
        const limitText = one(q, 'limit');
        let limit = DEFAULT_LIMIT;
        if (limitText !== undefined) {
          limit = Number(limitText);
          if (!/^[0-9]+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT)
            throw new BadParameter('limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
        }
        const cursorText = one(q, 'cursor');
        const page = parts.events.query({
          limit,
          ...(role !== undefined ? { role } : {}),
          ...(kind !== undefined ? { kind: kind as LifecycleEventKind } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          ...(cursorText !== undefined ? { after: decodeCursor(cursorText) } : {}),
        });
        return {
          events: page.events.map((e, i) => ({ ...e, seq: page.seqs[i] })),
          ...(page.next ? { next_cursor: encodeCursor(page.next) } : {}),
          follow_cursor: encodeCursor(page.follow),
        };
      } catch (err) {
        if (err instanceof EventCursorError || err instanceof OldCursor) {
          // A follower that cannot resume is worth a line: it has to start over.
          deps.log.warn(
            { event: 'api_events_cursor_refused', reason: err.reason },
            'GET /api/events refused a cursor the event store cannot resume from',
          );
          return answerBad(reply, 'events', new BadParameter('cursor', err.message));
        }
        return answerBad(reply, 'events', err);
      }
    });
  };
}
