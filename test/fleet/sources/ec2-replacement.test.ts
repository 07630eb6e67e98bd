/** EC2 discovery into a real registry: a replacement made between two refreshes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEc2Source } from '../../../src/fleet/sources/ec2-source.ts';
import { isolateAwsEnv } from '../../helpers/aws-env.ts';
import { ec2Config } from '../../helpers/ec2-config.ts';
import {
  type Ec2Endpoint,
  type Ec2Instance,
  startEc2Endpoint,
} from '../../helpers/ec2-endpoint.ts';
import { openFleet } from '../fleet-harness.ts';

const web = (id: string, launchTime: string, extra: Partial<Ec2Instance> = {}): Ec2Instance => ({
  instanceId: id,
  state: 'running',
  imageId: 'ami-0aaa',
  launchTime,
  tags: { Role: 'web', Version: '1' },
  ...extra,
});

describe('ec2 source into the registry, replacement between refreshes', () => {
  let ec2: Ec2Endpoint;
  isolateAwsEnv('AKIAFLEETLINETEST03');
  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
  });
  afterAll(async () => {
    await ec2.close();
  });

  it.each([
    ['listed as terminated', true],
    ['gone from the listing', false],
  ])('lets the successor of an instance %s inherit its slot, as a replace', async (_, listed) => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const before = [web('i-a', iso(now - 600_000)), web('i-b', iso(now - 600_000))];
    const after = [
      web('i-a', iso(now - 600_000)),
      ...(listed
        ? [
            web('i-b', iso(now - 600_000), {
              state: 'terminated',
              stateTransitionReason: `User initiated (${iso(now - 60_000)
                .slice(0, 19)
                .replace('T', ' ')} GMT)`,
            }),
          ]
        : []),
      web('i-c', iso(now - 30_000)),
    ];
    ec2.queueInstances(before, after);
    const fleet = await openFleet({ config: undefined });
    const source = createEc2Source(ec2Config(ec2.url), fleet.deps, fleet.registry);
    await source.start();
    try {
      while (fleet.registry.liveInstances().length < 2) await new Promise((r) => setTimeout(r, 10));
      expect(await source.refreshNow()).toBe(true);
      expect(fleet.registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([
        ['i-a', 0],
        ['i-c', 1],
      ]);
      expect(fleet.emitted.filter((e) => e.kind === 'replace').map((e) => e.text)).toEqual([
        'i-b → i-c (1, fault, slot 1)',
      ]);
    } finally {
      await source.stop();
      await fleet.stop();
    }
  });
});
