/**
 * Edges of an idle-ended instance coming back from its records: an authoritative end that
 * arrives after the idle sweep's, and a backlog of records too old to keep it alive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createFleetLabeller, type FleetLabeller } from '../../src/fleet/labeller.ts';
import { testDeps } from '../helpers/deps.ts';
import { type FakeClock, fakeClock } from '../helpers/fake-clock.ts';
import { recordingSink } from '../helpers/recording-sink.ts';
import {
  batch,
  entry,
  type Fleet,
  lifecycleConfig,
  openFleet,
  registryConfig,
  tempDir,
} from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const sweepOnce = () => new Promise((res) => setTimeout(res, 1100));
const rec = (id: string) => ({ instance_id: id, svc: 'batch', rev: '7' });

describe('idle-ended instance: edges of its return', () => {
  let fleet: Fleet | undefined;
  let labeller: FleetLabeller | undefined;
  afterEach(async () => {
    await labeller?.stop();
    await fleet?.stop();
    labeller = undefined;
    fleet = undefined;
  });

  const setup = async (clock: FakeClock, dir?: string) => {
    const config = registryConfig({
      records: { role_key: 'svc', version_key: 'rev' },
      unknown: { hold: '0s' },
    });
    fleet = await openFleet({
      config,
      deps: testDeps({ clock }),
      lifecycle: lifecycleConfig({ idle_terminate: '1s' }),
      ...(dir ? { dir } : {}),
    });
    labeller = createFleetLabeller(config, fleet.deps, {
      registry: fleet.registry,
      relabel: (l) => l,
      downstream: recordingSink(),
    });
    await labeller.start();
    return { registry: fleet.registry, labeller, fleet };
  };

  it('stays ended when EventBridge ends it after the idle sweep did, also after a restart', async () => {
    const clock = fakeClock(T);
    const dir = tempDir();
    let s = await setup(clock, dir);
    await s.labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    // The instance really is gone: Auto Scaling terminated it, EventBridge says so.
    s.registry.observe([
      { kind: 'terminated', at: clock.now(), instanceId: 'i-self', source: 'eventbridge' },
    ]);
    // A record it buffered before it went (dated after its last one) arrives late.
    await s.labeller.consume(batch([entry(rec('i-self'), T + 1000)]));
    expect(s.registry.liveInstances()).toEqual([]);
    expect(s.fleet.emitted.map((e) => e.kind)).toEqual(['launch', 'terminate']);

    await labeller?.stop();
    await fleet?.stop();
    s = await setup(clock, dir);
    await s.labeller.consume(batch([entry(rec('i-self'), clock.now())]));
    expect(s.registry.liveInstances()).toEqual([]);
    expect(s.fleet.emitted).toEqual([]);
  });

  it('does not flap while an agent replays a backlog older than the idle period', async () => {
    const clock = fakeClock(T);
    const { registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    // The agent was cut off and now flushes its buffer, oldest first, one batch per sweep.
    for (let k = 1; k <= 3; k++) {
      await labeller.consume(batch([entry(rec('i-self'), T + k * 100)]));
      clock.advance(100);
      await sweepOnce();
    }
    expect(fleet.emitted.map((e) => e.kind)).toEqual(['launch', 'terminate']);
    // Caught up: a record from within the idle period brings it back, once.
    const now = clock.now();
    await labeller.consume(batch([entry(rec('i-self'), now - 200), entry(rec('i-self'), now)]));
    expect(fleet.emitted.map((e) => e.text)).toEqual([
      'i-self launched (7, slot 0)',
      'i-self terminated (7, slot 0)',
      'i-self returned (7, slot 0)',
    ]);
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-self']);
  });
});
