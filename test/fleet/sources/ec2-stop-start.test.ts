/**
 * An EC2 instance stopped and started again (same id, new LaunchTime), reported by EventBridge
 * and by DescribeInstances listings that were asked for before the start: the real AWS SDK
 * against the EC2 Query API double, into a real registry.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/fleet/observation.ts';
import { createEc2Source, type Ec2Source } from '../../../src/fleet/sources/ec2-source.ts';
import { isolateAwsEnv } from '../../helpers/aws-env.ts';
import { testDeps } from '../../helpers/deps.ts';
import { ec2Config } from '../../helpers/ec2-config.ts';
import { type Ec2Endpoint, runningWeb, startEc2Endpoint } from '../../helpers/ec2-endpoint.ts';
import { type FakeClock, fakeClock } from '../../helpers/fake-clock.ts';
import { type Fleet, openFleet } from '../fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 12, 0, 0);
const web = runningWeb;
const stateChange = (id: string, at: number, running: boolean): Observation =>
  running
    ? { kind: 'running', at, facts: { instanceId: id }, source: 'eventbridge' }
    : { kind: 'terminated', at, instanceId: id, source: 'eventbridge' };

describe('ec2 instance stopped and started again', () => {
  let ec2: Ec2Endpoint;
  let fleet: Fleet | undefined;
  let source: Ec2Source | undefined;
  isolateAwsEnv('AKIAFLEETLINETEST05');
  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
  });
  afterEach(async () => {
    ec2.setResponseDelay(0);
    await source?.stop();
    await fleet?.stop();
    source = undefined;
    fleet = undefined;
  });
  afterAll(async () => {
    await ec2.close();
  });

  const open = async (clock: FakeClock) => {
    fleet = await openFleet({ deps: testDeps({ clock }) });
    source = createEc2Source(ec2Config(ec2.url), fleet.deps, fleet.registry);
    await source.start();
    expect(await source.refreshNow()).toBe(true);
    return { fleet, source };
  };
  const kinds = (f: Fleet, id: string) =>
    f.emitted.filter((e) => e.instanceId === id).map((e) => [e.kind, e.text]);

  it('is not ended again by a listing asked for while it was stopped, answered after it started', async () => {
    const clock = fakeClock(T);
    const a = web('i-a', T - 600_000);
    const b = web('i-b', T - 600_000);
    ec2.setInstances([a, b]);
    const { fleet, source } = await open(clock);
    clock.advance(10_000);
    const stoppedAt = clock.now();
    fleet.registry.observe([stateChange('i-b', stoppedAt, false)]);
    clock.advance(60_000);
    // EC2 lists it stopped; the answer takes a while.
    ec2.setInstances([a, web('i-b', T - 600_000, { state: 'stopped' })]);
    ec2.setResponseDelay(300);
    const arrivals = ec2.arrivals();
    const done = source.refreshNow();
    await ec2.waitForArrivals(arrivals + 1);
    // Meanwhile it is started again, and EventBridge says so.
    clock.advance(5000);
    const startedAt = clock.now();
    fleet.registry.observe([stateChange('i-b', startedAt, true)]);
    expect(await done).toBe(true);
    ec2.setResponseDelay(0);
    expect(fleet.registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-a', 'i-b']);
    // The next listing shows it running with its new LaunchTime: nothing more happens.
    clock.advance(30_000);
    ec2.setInstances([a, web('i-b', startedAt - 2000)]);
    expect(await source.refreshNow()).toBe(true);
    expect(kinds(fleet, 'i-b')).toEqual([
      ['launch', 'i-b launched (1, slot 1)'],
      ['terminate', 'i-b terminated (1, slot 1)'],
      ['launch', 'i-b returned (1, slot 1)'],
    ]);
  });
});
