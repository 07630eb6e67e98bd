/** The EC2 source when the registry refuses a refresh's observations. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation, ObservationSink } from '../../../src/fleet/observation.ts';
import { createEc2Source } from '../../../src/fleet/sources/ec2-source.ts';
import { isolateAwsEnv } from '../../helpers/aws-env.ts';
import { testDeps } from '../../helpers/deps.ts';
import { ec2Config } from '../../helpers/ec2-config.ts';
import { type Ec2Endpoint, startEc2Endpoint } from '../../helpers/ec2-endpoint.ts';

describe('ec2 source, refused observations', () => {
  let ec2: Ec2Endpoint;
  isolateAwsEnv('AKIAFLEETLINETEST02');
  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
  });
  afterAll(async () => {
    await ec2.close();
  });

  it('reports the launches and terminations of a refresh the registry refused again next time', async () => {
    ec2.setInstances([
      {
        instanceId: 'i-0web1',
        state: 'running',
        imageId: 'ami-0aaa',
        launchTime: '2026-11-27T10:00:00.000Z',
        tags: { Role: 'web', Version: '1' },
      },
      {
        instanceId: 'i-0old',
        state: 'terminated',
        imageId: 'ami-0aaa',
        launchTime: '2026-11-20T09:00:00.000Z',
        stateTransitionReason: 'User initiated (2026-11-27 11:58:00 GMT)',
        tags: { Role: 'web', Version: '1' },
      },
    ]);
    const calls: Observation[][] = [];
    let refuse = true;
    const sink: ObservationSink = {
      observe(observations) {
        calls.push([...observations]);
        if (refuse) throw new Error('could not persist');
      },
    };
    const source = createEc2Source(ec2Config(ec2.url), testDeps(), sink);
    await source.start();
    try {
      await ec2.waitForRequests(1, 'DescribeInstances');
      while (calls.length < 1) await new Promise((r) => setTimeout(r, 10));
      refuse = false;
      expect(await source.refreshNow()).toBe(true);
      const kinds = (os: Observation[]) => os.map((o) => o.kind).sort();
      expect(kinds(calls[0]!)).toEqual(['running', 'snapshot', 'terminated']);
      expect(kinds(calls[1]!)).toEqual(kinds(calls[0]!));
    } finally {
      await source.stop();
    }
  });
});
