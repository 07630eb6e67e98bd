/**
 * EC2 discovery into a real registry when DescribeInstances lags behind EventBridge: the
 * termination event arrives first, the next listings still show the instance running.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/fleet/observation.ts';
import { createEc2Source, type Ec2Source } from '../../../src/fleet/sources/ec2-source.ts';
import { isolateAwsEnv } from '../../helpers/aws-env.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';
import { ec2Config } from '../../helpers/ec2-config.ts';
import {
  type Ec2Endpoint,
  type Ec2Instance,
  runningWeb,
  startEc2Endpoint,
} from '../../helpers/ec2-endpoint.ts';
import { type FakeClock, fakeClock } from '../../helpers/fake-clock.ts';
import { type Fleet, openFleet, registryConfig, tempDir } from '../fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const web = runningWeb;
const reason = (ms: number) => `User initiated (${iso(ms).slice(0, 19).replace('T', ' ')} GMT)`;
const eventBridgeEnd = (id: string, at: number): Observation => ({
  kind: 'terminated',
  at,
  instanceId: id,
  source: 'eventbridge',
});
const a = web('i-a', T - 600_000);
const b = web('i-b', T - 600_000);

describe('ec2 listing lagging behind an EventBridge termination', () => {
  let ec2: Ec2Endpoint;
  let fleet: Fleet | undefined;
  let source: Ec2Source | undefined;
  isolateAwsEnv('AKIAFLEETLINETEST04');
  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
  });
  afterEach(async () => {
    await source?.stop();
    await fleet?.stop();
    source = undefined;
    fleet = undefined;
  });
  afterAll(async () => {
    await ec2.close();
  });

  const open = async (clock: FakeClock, dir?: string, registry: Record<string, unknown> = {}) => {
    fleet = await openFleet({
      config: registryConfig(registry),
      deps: testDeps({ clock }),
      ...(dir ? { dir } : {}),
    });
    source = createEc2Source(ec2Config(ec2.url), fleet.deps, fleet.registry);
    await source.start();
    // The first refresh starts with start(); this waits for it.
    expect(await source.refreshNow()).toBe(true);
    return { fleet, source };
  };
  const refresh = async (clock: FakeClock, ms: number, instances: Ec2Instance[]) => {
    clock.advance(ms);
    ec2.setInstances(instances);
    expect(await source!.refreshNow()).toBe(true);
  };
  const kinds = (f: Fleet, id: string) =>
    f.emitted
      .filter((e) => e.instanceId === id || e.oldInstanceId === id || e.newInstanceId === id)
      .map((e) => e.kind);

  it('does not launch an instance again that a stale listing still shows running, nor end it twice', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a, b]);
    const { fleet } = await open(clock);
    const ended = T + 5000;
    clock.set(ended + 1000);
    fleet.registry.observe([eventBridgeEnd('i-b', ended)]);
    // Two lagging listings (still running), then one that caught up (terminated).
    await refresh(clock, 30_000, [a, b]);
    await refresh(clock, 30_000, [a, b]);
    await refresh(clock, 30_000, [
      a,
      web('i-b', T - 600_000, { state: 'terminated', stateTransitionReason: reason(ended) }),
    ]);
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate']);
    expect(
      fleet.registry.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt]),
    ).toEqual([['i-b', ended]]);
    expect(fleet.registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-a']);
    expect(
      await metricValue(fleet.deps, 'fleetline_fleet_stale_live_reports_total', { source: 'ec2' }),
    ).toBe(2);
  });

  it('does nothing more for a listing that shows it shutting-down', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a, b]);
    const { fleet } = await open(clock);
    clock.advance(1000);
    fleet.registry.observe([eventBridgeEnd('i-b', clock.now() - 500)]);
    await refresh(clock, 30_000, [a, web('i-b', T - 600_000, { state: 'shutting-down' })]);
    await refresh(clock, 30_000, [a]);
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate']);
  });

  it('still launches a genuinely new instance in the stale listing, as the replacement', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a, b]);
    const { fleet } = await open(clock);
    clock.advance(1000);
    fleet.registry.observe([eventBridgeEnd('i-b', clock.now() - 500)]);
    await refresh(clock, 30_000, [a, b, web('i-c', clock.now() + 20_000)]);
    expect(fleet.registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([
      ['i-a', 0],
      ['i-c', 1],
    ]);
    expect(fleet.emitted.filter((e) => e.kind === 'replace').map((e) => e.text)).toEqual([
      'i-b → i-c (1, fault, slot 1)',
    ]);
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate', 'replace']);
  });

  it('is not fooled after a restart either: the source of the end is kept in the store', async () => {
    const clock = fakeClock(T);
    const dir = tempDir();
    ec2.setInstances([a, b]);
    let f = (await open(clock, dir)).fleet;
    clock.advance(1000);
    f.registry.observe([eventBridgeEnd('i-b', clock.now() - 500)]);
    await source!.stop();
    await f.stop();
    // A fresh EC2 source reports every listed instance as `running` with its launch time.
    clock.advance(20_000);
    f = (await open(clock, dir)).fleet;
    expect(f.registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-a']);
    expect(f.emitted).toEqual([]);
  });

  it('does not launch an instance EventBridge ended before EC2 ever listed it, more than once', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a]);
    const { fleet } = await open(clock);
    clock.advance(1000);
    // i-n launched and was ended between two refreshes; only its end was pushed.
    const ended = clock.now() - 200;
    fleet.registry.observe([eventBridgeEnd('i-n', ended)]);
    await refresh(clock, 30_000, [a, web('i-n', T - 100)]);
    await refresh(clock, 30_000, [a]);
    expect(kinds(fleet, 'i-n')).toEqual(['launch', 'terminate']);
    expect(
      fleet.registry.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt]),
    ).toEqual([['i-n', ended]]);
  });

  it('takes an instance back that EC2 shows started again after the end (a later LaunchTime)', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a, b]);
    const { fleet } = await open(clock);
    clock.advance(1000);
    const stopped = clock.now() - 500;
    fleet.registry.observe([eventBridgeEnd('i-b', stopped)]);
    await refresh(clock, 30_000, [a, web('i-b', stopped + 10_000)]);
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate', 'launch']);
    expect(fleet.registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([
      ['i-a', 0],
      ['i-b', 1],
    ]);
  });

  it('dates a listing by when it was asked for: one asked for before the end does not undo it', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a, b]);
    // No grace at all: only the listing's own time can tell it is older than the end.
    const { fleet, source } = await open(clock, undefined, { termination_grace: '0s' });
    ec2.setResponseDelay(300);
    try {
      const arrivals = ec2.arrivals();
      const done = source.refreshNow();
      await ec2.waitForArrivals(arrivals + 1);
      // While the answer is on its way, EventBridge reports the end.
      clock.advance(10_000);
      fleet.registry.observe([eventBridgeEnd('i-b', clock.now() - 1000)]);
      expect(await done).toBe(true);
    } finally {
      ec2.setResponseDelay(0);
    }
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate']);
  });

  it('believes the listing again once it has shown the instance running for longer than the grace', async () => {
    const clock = fakeClock(T);
    ec2.setInstances([a, b]);
    const { fleet } = await open(clock, undefined, { termination_grace: '2m' });
    clock.advance(1000);
    fleet.registry.observe([eventBridgeEnd('i-b', clock.now() - 500)]);
    await refresh(clock, 60_000, [a, b]);
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate']);
    await refresh(clock, 61_000, [a, b]);
    expect(kinds(fleet, 'i-b')).toEqual(['launch', 'terminate', 'launch']);
  });
});
