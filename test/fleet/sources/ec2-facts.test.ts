/** The pure half of EC2 discovery: a DescribeInstances listing → observations. */
import type { Instance } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  factsOf,
  imagesNeedingVersion,
  type ListingContext,
  observationsFromListing,
  terminatedAtOf,
  versionFromAsgName,
} from '../../../src/fleet/sources/ec2-facts.ts';
import { failureReason, isThrottle } from '../../../src/fleet/sources/ec2-failure-reason.ts';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

function instance(
  id: string,
  state: string,
  tags: Record<string, string> = {},
  extra: Partial<Instance> = {},
): Instance {
  return {
    InstanceId: id,
    State: { Name: state as never, Code: 16 },
    ImageId: 'ami-1',
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    ...extra,
  };
}

function ctx(overrides: Partial<ListingContext> = {}): ListingContext {
  return {
    now: NOW,
    roleTag: 'Role',
    versionTag: 'Version',
    amiVersions: new Map(),
    previousRunning: new Set(),
    previousTerminated: new Set(),
    ...overrides,
  };
}

describe('ec2 facts', () => {
  it.each<[string | undefined, string | undefined]>([
    ['web-v123', 'v123'],
    ['web-prod-v007', 'v007'],
    ['web-v123-canary', undefined],
    ['webv123', undefined],
    ['web-v', undefined],
    [undefined, undefined],
  ])('reads the version of Auto Scaling group %j as %j', (name, version) => {
    expect(versionFromAsgName(name)).toBe(version);
  });

  it('prefers the version tag, then the AMI tag, then the ASG name', () => {
    const asg = { 'aws:autoscaling:groupName': 'web-v9' };
    const amiVersions = new Map([['ami-1', '2.0']]);
    const c = { roleTag: 'Role', versionTag: 'Version', amiVersions };
    expect(factsOf(instance('i-1', 'running', { Version: '1.0', ...asg }), c).version).toBe('1.0');
    expect(factsOf(instance('i-1', 'running', asg), c).version).toBe('2.0');
    expect(factsOf(instance('i-1', 'running', asg), { ...c, amiVersions: new Map() }).version).toBe(
      'v9',
    );
    expect(
      factsOf(instance('i-1', 'running', { Version: '' }), { ...c, amiVersions: new Map() }),
    ).not.toHaveProperty('version');
  });

  it('leaves unknown facts absent rather than empty, and uses configured tag keys', () => {
    const facts = factsOf(
      instance('i-1', 'running', { app: 'web', rel: '7' }, { ImageId: undefined }),
      {
        roleTag: 'app',
        versionTag: 'rel',
        amiVersions: new Map(),
      },
    );
    expect(facts).toEqual({
      instanceId: 'i-1',
      role: 'web',
      version: '7',
      attributes: { app: 'web', rel: '7' },
    });
  });

  it('asks for AMI versions only for live instances without a version tag, once per image', () => {
    const list = [
      instance('i-1', 'running', {}, { ImageId: 'ami-a' }),
      instance('i-2', 'pending', {}, { ImageId: 'ami-a' }),
      instance('i-3', 'running', { Version: '1' }, { ImageId: 'ami-b' }),
      instance('i-4', 'terminated', {}, { ImageId: 'ami-c' }),
      instance('i-5', 'running', {}, { ImageId: 'ami-d' }),
    ];
    expect(imagesNeedingVersion(list, 'Version')).toEqual(['ami-a', 'ami-d']);
  });

  it('takes the termination time from the state-transition reason', () => {
    const i = instance(
      'i-1',
      'terminated',
      {},
      { StateTransitionReason: 'User initiated (2026-11-27 11:58:00 GMT)' },
    );
    expect(terminatedAtOf(i)).toBe(Date.UTC(2026, 10, 27, 11, 58, 0));
    expect(
      terminatedAtOf(
        instance('i-1', 'terminated', {}, { StateTransitionReason: 'Service initiated' }),
      ),
    ).toBeUndefined();
  });

  it('reports running and terminated once, a snapshot every time, and nothing for stopped', () => {
    const list = [
      instance('i-1', 'running', { Role: 'web' }, { LaunchTime: new Date(NOW - 1000) }),
      instance('i-2', 'shutting-down', { Role: 'web' }),
      instance('i-3', 'stopped', { Role: 'web' }),
      instance('i-1', 'running', { Role: 'web' }, { LaunchTime: new Date(NOW - 1000) }),
    ];
    const first = observationsFromListing(list, ctx());
    expect(first.observations.map((o) => o.kind)).toEqual(['running', 'terminated', 'snapshot']);
    expect(first.observations[0]).toMatchObject({
      launchedAt: NOW - 1000,
      facts: { attributes: { launch_time: String(NOW - 1000) } },
    });
    expect(first.observations[1]).toEqual({
      kind: 'terminated',
      at: NOW,
      instanceId: 'i-2',
      source: 'ec2',
    });
    const second = observationsFromListing(
      list,
      ctx({ previousRunning: first.running, previousTerminated: first.terminated }),
    );
    expect(second.observations).toEqual([
      {
        kind: 'snapshot',
        at: NOW,
        instances: [expect.objectContaining({ instanceId: 'i-1' })],
        source: 'ec2',
      },
    ]);
  });

  it('never dates a termination in the future', () => {
    const i = instance(
      'i-1',
      'terminated',
      {},
      { StateTransitionReason: 'User initiated (2030-01-01 00:00:00 GMT)' },
    );
    expect(observationsFromListing([i], ctx()).observations[0]).toMatchObject({
      kind: 'terminated',
      at: NOW,
    });
  });
});

describe('ec2 failure reasons', () => {
  it.each<[unknown, string]>([
    [{ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } }, 'throttled'],
    [{ name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }, 'auth'],
    [{ name: 'AuthFailure', $metadata: { httpStatusCode: 401 } }, 'auth'],
    [{ name: 'CredentialsProviderError' }, 'credentials'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'network'],
    [{ name: 'InternalError', $metadata: { httpStatusCode: 500 } }, 'server'],
    [{ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } }, 'invalid_request'],
    [new Error('boom'), 'other'],
    [undefined, 'other'],
  ])('classifies %j as %s', (err, reason) => {
    expect(failureReason(err)).toBe(reason);
  });

  it('recognises throttling by name', () => {
    expect(isThrottle({ name: 'RequestLimitExceeded' })).toBe(true);
    expect(isThrottle({ name: 'InternalError' })).toBe(false);
  });
});
