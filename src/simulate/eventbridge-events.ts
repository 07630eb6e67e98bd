/**
 * Lifecycle signals shaped the way AWS sends them: EventBridge "EC2 Instance State-change
 * Notification" events (source aws.ec2) and Auto Scaling "EC2 Instance Launch Successful" /
 * "EC2 Instance Terminate Successful" events (source aws.autoscaling), with the Cause texts
 * Auto Scaling writes for instance refresh, health-check replacement and scale-in.
 */
import type { Rng } from './random.ts';
import type { SimInstance } from './scenario.ts';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export type EventBridgeEvent = Record<string, unknown>;

function envelope(
  rng: Rng,
  detailType: string,
  source: string,
  at: number,
  resources: string[],
  detail: object,
): EventBridgeEvent {
  const id = `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`;
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source,
    account: ACCOUNT,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources,
    detail,
  };
}

const instanceArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${id}`;
const asgName = (role: string) => `${role}-asg`;

export function ec2StateChange(
  rng: Rng,
  instanceId: string,
  state: 'pending' | 'running' | 'shutting-down' | 'terminated',
  at: number,
): EventBridgeEvent {
  return envelope(
    rng,
    'EC2 Instance State-change Notification',
    'aws.ec2',
    at,
    [instanceArn(instanceId)],
    {
      'instance-id': instanceId,
      state,
    },
  );
}

const CAUSES = {
  release: 'an instance was taken out of service in response to an instance refresh.',
  fault:
    'an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.',
  scale:
    'a user request update of AutoScalingGroup constraints changing the desired capacity from 4 to 3.',
};

/** An Auto Scaling "EC2 Instance Launch/Terminate Successful" event, as AWS sends it. */
function asgEvent(
  rng: Rng,
  kind: 'Launch' | 'Terminate',
  inst: SimInstance,
  at: number,
  cause: string,
): EventBridgeEvent {
  const when = new Date(at).toISOString();
  return envelope(
    rng,
    `EC2 Instance ${kind} Successful`,
    'aws.autoscaling',
    at,
    [
      `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:${rng.hex(8)}:autoScalingGroupName/${asgName(inst.role)}`,
      instanceArn(inst.instanceId),
    ],
    {
      StatusCode: 'InProgress',
      AutoScalingGroupName: asgName(inst.role),
      ActivityId: `${rng.hex(8)}-${rng.hex(4)}`,
      Details: { 'Availability Zone': inst.az, 'Subnet ID': `subnet-${rng.hex(8)}` },
      RequestId: rng.hex(8),
      EndTime: when,
      EC2InstanceId: inst.instanceId,
      StartTime: when,
      Cause: `At ${when} ${cause}`,
    },
  );
}

export function asgLaunch(
  rng: Rng,
  inst: SimInstance,
  at: number,
  cause: 'release' | 'fault' | 'scale',
): EventBridgeEvent {
  const why =
    cause === 'scale'
      ? CAUSES.scale
      : 'an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 3 to 4.';
  return asgEvent(rng, 'Launch', inst, at, why);
}

export function asgTerminate(
  rng: Rng,
  inst: SimInstance,
  at: number,
  cause: 'release' | 'fault' | 'scale',
): EventBridgeEvent {
  return asgEvent(rng, 'Terminate', inst, at, CAUSES[cause]);
}
