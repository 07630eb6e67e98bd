import { describe, expect, it } from 'vitest';
import {
  causeFromText,
  compileAsgNamePattern,
  observationsFromEvent,
} from '../../../src/ingest/http/eventbridge.ts';
import { asgEvent, ec2StateChange } from './aws-events.ts';

const AT = Date.parse('2026-11-27T11:00:00Z');

describe('observationsFromEvent › EC2 state-change', () => {
  it.each([
    ['pending', []],
    [
      'running',
      [{ kind: 'running', at: AT, facts: { instanceId: 'i-abcd1111' }, source: 'eventbridge' }],
    ],
    ...['shutting-down', 'terminated', 'stopping', 'stopped'].map((state) => [
      state,
      [{ kind: 'terminated', at: AT, instanceId: 'i-abcd1111', source: 'eventbridge' }],
    ]),
  ] as Array<[string, unknown[]]>)('maps state %s', (state, observations) => {
    expect(observationsFromEvent(ec2StateChange(state))).toEqual({
      kind: 'observations',
      observations,
    });
  });
});

describe('observationsFromEvent › Auto Scaling', () => {
  it('maps a launch to running with launchedAt = StartTime, the AZ and the group, no role', () => {
    const r = observationsFromEvent(
      asgEvent(
        'EC2 Instance Launch Successful',
        'At 2026-11-27T11:00:40Z a user request update of AutoScalingGroup constraints ...',
      ),
    );
    expect(r).toEqual({
      kind: 'observations',
      observations: [
        {
          kind: 'running',
          at: Date.parse('2026-11-27T11:01:30.500Z'),
          launchedAt: Date.parse('2026-11-27T11:00:45Z'),
          facts: {
            instanceId: 'i-1234567890abcdef0',
            az: 'us-west-2b',
            attributes: { asg: 'my-auto-scaling-group' },
          },
          source: 'autoscaling',
        },
      ],
    });
  });

  it('derives role and version from the group name only through the configured convention', () => {
    const asgNamePattern = compileAsgNamePattern('(?<role>[a-z]+)-(?<version>[0-9.]+)-asg');
    const launch = asgEvent('EC2 Instance Launch Successful', '', 'web-1.4.3-asg');
    const r = observationsFromEvent(launch, { asgNamePattern });
    expect(r.kind === 'observations' && r.observations[0]).toMatchObject({
      facts: { role: 'web', version: '1.4.3' },
    });
    const other = observationsFromEvent(
      asgEvent('EC2 Instance Launch Successful', '', 'x-web-1.4.3-asg-2'),
      {
        asgNamePattern,
      },
    );
    expect(other.kind === 'observations' && other.observations[0]).not.toHaveProperty('facts.role');
  });

  it.each([
    [
      'At 2026-11-27T11:00:40Z an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.',
      'fault',
    ],
    [
      'At 2026-11-27T11:00:40Z an instance was taken out of service in response to an ELB system health check failure.',
      'fault',
    ],
    ['At 2026-11-27T11:00:40Z instance i-0abc was marked unhealthy and replaced.', 'fault'],
    [
      'At 2026-11-27T11:00:40Z an instance was taken out of service in response to an instance refresh.',
      'release',
    ],
    ['At 2026-11-27T11:00:40Z an instance was replaced by the launch template update.', 'release'],
    [
      'At 2026-11-27T11:00:20Z a user request explicitly set group desired capacity changing the desired capacity from 3 to 2. At 2026-11-27T11:00:40Z an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from 3 to 2.',
      'scale',
    ],
    ['At 2026-11-27T11:00:40Z an instance was terminated by a scale-in policy.', 'scale'],
    [
      'At 2026-11-27T11:00:40Z an instance was taken out of service in response to a user request.',
      'unknown',
    ],
    ['', 'unknown'],
  ])('reads the terminate Cause %j as %s', (cause, want) => {
    expect(causeFromText(cause)).toBe(want);
    const r = observationsFromEvent(asgEvent('EC2 Instance Terminate Successful', cause));
    expect(r).toEqual({
      kind: 'observations',
      observations: [
        {
          kind: 'terminated',
          at: Date.parse('2026-11-27T11:01:30.500Z'),
          instanceId: 'i-1234567890abcdef0',
          source: 'autoscaling',
          cause: want,
        },
      ],
    });
  });

  it('ignores detail-types it does not map', () => {
    const e = {
      ...ec2StateChange('running'),
      'detail-type': 'EC2 Instance-launch Lifecycle Action',
    };
    expect(observationsFromEvent(e)).toEqual({ kind: 'ignored' });
  });
});

describe('compileAsgNamePattern', () => {
  it('rejects a pattern without a role group and an invalid regex, naming the key', () => {
    expect(() => compileAsgNamePattern('(?<version>.*)')).toThrow(
      /http.asg_role_pattern: must have a named group/,
    );
    expect(() => compileAsgNamePattern('(?<role>[a-')).toThrow(
      /http.asg_role_pattern: not a valid regular expression/,
    );
  });
});
