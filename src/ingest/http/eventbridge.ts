/**
 * Pure mapping of AWS EventBridge events to fleet observations.
 *
 *   source aws.ec2, "EC2 Instance State-change Notification"   detail.instance-id, detail.state
 *     running                              → running
 *     shutting-down, terminated,
 *     stopping, stopped                    → terminated (an immutable fleet never restarts one)
 *     pending                              → nothing yet (a `running` follows)
 *   source aws.autoscaling, "EC2 Instance Launch Successful"    → running (launchedAt = StartTime)
 *   source aws.autoscaling, "EC2 Instance Terminate Successful" → terminated with a cause
 *
 * Other detail-types (lifecycle actions, unsuccessful launches, …) are `ignored`: EventBridge
 * rules often match a whole source, and a 4xx would only make the target retry or fail.
 * Role and version are derived from nothing but an explicit convention: an optional pattern
 * on the Auto Scaling group name with named groups `role` (and `version`). The registry
 * combines the rest from other sources.
 */
import type { Cause, InstanceFacts, Observation } from '../../fleet/observation.ts';
import { rfc3339Ms } from './event-time.ts';

export const EC2_STATE_CHANGE = 'EC2 Instance State-change Notification';
export const ASG_LAUNCH = 'EC2 Instance Launch Successful';
export const ASG_TERMINATE = 'EC2 Instance Terminate Successful';

export const EC2_STATES = [
  'pending',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped',
] as const;

/** The envelope every EventBridge event has (only the fields fleetline reads). */
export interface EventBridgeEvent {
  'detail-type': string;
  source: string;
  /** RFC 3339, when the event happened. */
  time: string;
  region?: string;
  detail: Record<string, unknown>;
}

export interface Ec2StateChangeDetail {
  'instance-id': string;
  state: (typeof EC2_STATES)[number];
}

export interface AsgActivityDetail {
  EC2InstanceId: string;
  AutoScalingGroupName: string;
  StartTime?: string;
  EndTime?: string;
  Cause?: string;
  Description?: string;
  Details?: { 'Availability Zone'?: string; 'Subnet ID'?: string };
}

export interface EventBridgeMapping {
  /** Fully anchored pattern on the Auto Scaling group name with named groups role/version. */
  asgNamePattern?: RegExp;
}

export type EventBridgeResult =
  | { kind: 'observations'; observations: Observation[] }
  | { kind: 'ignored' };

/** Maps one (already validated) event. */
export function observationsFromEvent(
  event: EventBridgeEvent,
  mapping: EventBridgeMapping = {},
): EventBridgeResult {
  const at = rfc3339Ms(event.time);
  switch (event['detail-type']) {
    case EC2_STATE_CHANGE: {
      const d = event.detail as unknown as Ec2StateChangeDetail;
      if (d.state === 'pending') return { kind: 'observations', observations: [] };
      if (d.state === 'running') {
        const observation: Observation = {
          kind: 'running',
          at,
          facts: { instanceId: d['instance-id'] },
          source: 'eventbridge',
        };
        return { kind: 'observations', observations: [observation] };
      }
      return {
        kind: 'observations',
        observations: [
          { kind: 'terminated', at, instanceId: d['instance-id'], source: 'eventbridge' },
        ],
      };
    }
    case ASG_LAUNCH: {
      const d = event.detail as unknown as AsgActivityDetail;
      const observation: Observation = {
        kind: 'running',
        at: timeOr(d.EndTime, at),
        facts: asgFacts(d, mapping),
        source: 'autoscaling',
      };
      if (d.StartTime) observation.launchedAt = rfc3339Ms(d.StartTime);
      return { kind: 'observations', observations: [observation] };
    }
    case ASG_TERMINATE: {
      const d = event.detail as unknown as AsgActivityDetail;
      return {
        kind: 'observations',
        observations: [
          {
            kind: 'terminated',
            at: timeOr(d.EndTime, at),
            instanceId: d.EC2InstanceId,
            source: 'autoscaling',
            cause: causeFromText(d.Cause),
          },
        ],
      };
    }
    default:
      return { kind: 'ignored' };
  }
}

/**
 * Why Auto Scaling terminated an instance, read from the activity's `Cause` text:
 * health checks → fault; instance refresh / replacement → release; scale-in or a change of
 * desired capacity → scale; anything else → unknown. Health is checked first because a
 * health replacement's text also talks about capacity.
 */
export function causeFromText(text: string | undefined): Cause {
  const t = (text ?? '').toLowerCase();
  if (/\bunhealthy\b|\bhealth\b|health check|health-check/.test(t)) return 'fault';
  if (/instance refresh|\breplac/.test(t)) return 'release';
  if (/scale[- ]?in|desired capacity|desired and actual capacity|shrinking the capacity/.test(t))
    return 'scale';
  return 'unknown';
}

function asgFacts(d: AsgActivityDetail, mapping: EventBridgeMapping): InstanceFacts {
  const facts: InstanceFacts = {
    instanceId: d.EC2InstanceId,
    attributes: { asg: d.AutoScalingGroupName },
  };
  const az = d.Details?.['Availability Zone'];
  if (az) facts.az = az;
  const m = mapping.asgNamePattern?.exec(d.AutoScalingGroupName);
  if (m?.groups?.role) facts.role = m.groups.role;
  if (m?.groups?.version) facts.version = m.groups.version;
  return facts;
}

function timeOr(text: string | undefined, fallback: number): number {
  const t = text ? rfc3339Ms(text) : Number.NaN;
  return Number.isNaN(t) ? fallback : t;
}

/** Compiles the `http.asg_role_pattern` convention, fully anchored; throws when unusable. */
export function compileAsgNamePattern(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new Error(
      `http.asg_role_pattern: not a valid regular expression: ${(err as Error).message}`,
    );
  }
  if (!source.includes('(?<role>'))
    throw new Error('http.asg_role_pattern: must have a named group (?<role>…)');
  return re;
}
