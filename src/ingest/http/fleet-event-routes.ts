/**
 * Pushed fleet events over HTTP:
 *
 *   POST /ingest/eventbridge   one EventBridge event or an array of them (an EventBridge API
 *                              destination, or a Lambda forwarding them); see eventbridge.ts
 *   POST /api/deploys          a CI pipeline announcing a deploy; see deploys.ts
 *
 * Bodies are validated with JSON Schema (all errors, each naming its field:
 * `body.phase: must be one of started, finished`) and a request is all-or-nothing: one bad
 * event in an array rejects the array with 400 and observes nothing. A time the schema accepts
 * but InfluxDB cannot store (after 2262-04-11, before 1677-09-21) is a 400 as well: it would
 * become the lifecycle event's point time. Valid observations go to
 * the registry's `ObservationSink`; 200 `{accepted, ignored}` once it took them.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../core/deps.ts';
import { InvalidInputError } from '../../core/errors.ts';
import type { Observation, ObservationSink } from '../../fleet/observation.ts';
import { createBodyValidator } from './body-validation.ts';
import { type DeployBody, deployObservation } from './deploys.ts';
import { type Rejection, rejectionFor } from './errors.ts';
import { isStorableMs, rfc3339Ms } from './event-time.ts';
import {
  ASG_LAUNCH,
  ASG_TERMINATE,
  compileAsgNamePattern,
  EC2_STATE_CHANGE,
  type EventBridgeEvent,
  observationsFromEvent,
} from './eventbridge.ts';
import {
  ASG_ACTIVITY_DETAIL,
  DEPLOY_BODY,
  EC2_STATE_CHANGE_DETAIL,
  EVENTBRIDGE_ENVELOPE,
} from './fleet-event-schemas.ts';
import { type HttpInputName, inputTelemetry } from './input-telemetry.ts';
import { peerAddress } from './peer-address.ts';

export interface FleetEventRoutesOptions {
  sink: ObservationSink;
  /**
   * `http.asg_role_pattern`: a regex (fully anchored) on Auto Scaling group names with a named
   * group `role` and optionally `version`. Without it, ASG events carry no role.
   */
  asgRolePattern?: string;
}

/** Most events one request may carry; EventBridge sends one, forwarders batch a few. */
const MAX_EVENTS = 1000;

export function fleetEventRoutes(deps: Deps, opts: FleetEventRoutesOptions): FastifyPluginAsync {
  // Compiled here so a bad pattern fails at start-up, not on the first event.
  const asgNamePattern = compileAsgNamePattern(opts.asgRolePattern);
  const validator = createBodyValidator();
  const validateEnvelope = validator.compile(EVENTBRIDGE_ENVELOPE);
  // A Map, not an object literal: a detail-type such as "constructor" or "__proto__" must find
  // nothing (it did find Object's members, and the request failed with a 500).
  const validateDetail = new Map<string, (v: unknown, path: string) => string[]>([
    [EC2_STATE_CHANGE, validator.compile(EC2_STATE_CHANGE_DETAIL)],
    [ASG_LAUNCH, validator.compile(ASG_ACTIVITY_DETAIL)],
    [ASG_TERMINATE, validator.compile(ASG_ACTIVITY_DETAIL)],
  ]);
  const validateDeploy = validator.compile(DEPLOY_BODY);
  const telemetry = {
    eventbridge: inputTelemetry(deps, 'eventbridge'),
    deploys: inputTelemetry(deps, 'deploys'),
  };

  const fail = (input: HttpInputName, req: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const r = rejectionFor(err);
    (input === 'deploys' ? telemetry.deploys : telemetry.eventbridge).rejected(
      r,
      peerAddress(req.socket.remoteAddress),
    );
    return send(reply, r);
  };

  const observe = (observations: Observation[]) => {
    if (observations.length > 0) opts.sink.observe(observations);
  };

  return async (app) => {
    app.setErrorHandler((err, req, reply) =>
      fail(req.url.startsWith('/api/deploys') ? 'deploys' : 'eventbridge', req, reply, err),
    );

    app.post('/ingest/eventbridge', async (req, reply) => {
      try {
        const body = req.body;
        const events = Array.isArray(body) ? body : [body];
        if (events.length > MAX_EVENTS)
          throw new InvalidInputError(`body: at most ${MAX_EVENTS} events per request`);
        const errors: string[] = [];
        for (let i = 0; i < events.length; i++) {
          const path = Array.isArray(body) ? `body[${i}]` : 'body';
          const envelopeErrors = validateEnvelope(events[i], path);
          if (envelopeErrors.length > 0) {
            errors.push(...envelopeErrors);
            continue;
          }
          const event = events[i] as EventBridgeEvent;
          const validate = validateDetail.get(event['detail-type']);
          const detailErrors = validate?.(event.detail, `${path}.detail`) ?? [];
          errors.push(...detailErrors, ...unstorableTime(event.time, `${path}.time`));
          if (validate && detailErrors.length === 0 && event['detail-type'] !== EC2_STATE_CHANGE)
            for (const key of ['StartTime', 'EndTime'])
              errors.push(...unstorableTime(event.detail[key], `${path}.detail.${key}`));
        }
        if (errors.length > 0) throw new InvalidInputError(errors.join('; '));

        const observations: Observation[] = [];
        let ignored = 0;
        for (const event of events as EventBridgeEvent[]) {
          const result = observationsFromEvent(event, { asgNamePattern });
          if (result.kind === 'ignored') ignored++;
          else observations.push(...result.observations);
        }
        observe(observations);
        telemetry.eventbridge.accepted(observations.length);
        if (ignored > 0)
          deps.log.info(
            {
              event: 'eventbridge_events_ignored',
              ignored,
              peer: peerAddress(req.socket.remoteAddress),
            },
            'EventBridge events of a detail-type fleetline does not map were ignored',
          );
        return reply
          .code(200)
          .send({ accepted: events.length - ignored, ignored, observations: observations.length });
      } catch (err) {
        return fail('eventbridge', req, reply, err);
      }
    });

    app.post('/api/deploys', async (req, reply) => {
      try {
        const errors = validateDeploy(req.body, 'body');
        if (errors.length > 0) throw new InvalidInputError(errors.join('; '));
        const body = req.body as DeployBody;
        const observation = deployObservation(body, deps.clock.now());
        if (body.time !== undefined && !isStorableMs(observation.at))
          throw new InvalidInputError(`body.time: ${OUT_OF_RANGE}`);
        observe([observation]);
        telemetry.deploys.accepted(1);
        return reply.code(200).send({ accepted: 1 });
      } catch (err) {
        return fail('deploys', req, reply, err);
      }
    });
  };
}

const OUT_OF_RANGE = 'is not a time InfluxDB can store (1677-09-21 to 2262-04-11)';

/** The problem with an RFC 3339 time the schema accepted, if it is no storable time. */
function unstorableTime(value: unknown, path: string): string[] {
  if (typeof value !== 'string' || isStorableMs(rfc3339Ms(value))) return [];
  return [`${path}: ${OUT_OF_RANGE}`];
}

function send(reply: FastifyReply, r: Rejection) {
  if (r.retryAfterSec !== undefined) reply.header('retry-after', String(r.retryAfterSec));
  return reply.code(r.status).send({ error: r.reason, message: r.message });
}
