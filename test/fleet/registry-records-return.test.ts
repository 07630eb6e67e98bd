/**
 * An instance known only from its records (`registry.records`), ended by the idle sweep
 * (`lifecycle.idle_terminate`), that speaks again: it is live again, through the real labeller
 * and a real registry over SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createFleetLabeller, type FleetLabeller } from '../../src/fleet/labeller.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
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
const rec = (id: string, role = 'batch', version = '7') => ({
  instance_id: id,
  svc: role,
  rev: version,
});

/** How many record role/version values of `key` the reporter refused for `reason`. */
const refusals = (fleet: Fleet, key: string, reason: string) =>
  metricValue(fleet.deps, 'fleetline_fleet_record_labels_refused_total', { key, reason });

/**
 * Per test: a records-only fleet over SQLite with a 1 s idle sweep and the real labeller in
 * front; `stopCurrent` stops them (a restart is a second `setup` on the same dir).
 */
function useRecordsFleet() {
  let fleet: Fleet | undefined;
  let labeller: FleetLabeller | undefined;
  const stopCurrent = async () => {
    await labeller?.stop();
    await fleet?.stop();
    labeller = undefined;
    fleet = undefined;
  };
  afterEach(stopCurrent);
  const setup = async (clock: FakeClock, dir?: string, historyMs?: number) => {
    const config = registryConfig({
      records: { role_key: 'svc', version_key: 'rev' },
      unknown: { hold: '0s' },
    });
    fleet = await openFleet({
      config,
      deps: testDeps({ clock }),
      lifecycle: lifecycleConfig({ idle_terminate: '1s' }),
      ...(dir ? { dir } : {}),
      ...(historyMs !== undefined ? { historyMs } : {}),
    });
    const sink = recordingSink();
    labeller = createFleetLabeller(config, fleet.deps, {
      registry: fleet.registry,
      relabel: (l) => l,
      downstream: sink,
    });
    await labeller.start();
    return { sink, registry: fleet.registry, labeller, fleet };
  };
  return { setup, stopCurrent };
}

describe('records-only instance after the idle sweep', () => {
  const { setup, stopCurrent } = useRecordsFleet();

  it('comes back live when it speaks again: a new span, a launch that says it returned, its slot if free', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    expect(registry.liveInstances()).toEqual([]);

    const back = clock.now();
    await labeller.consume(batch([entry(rec('i-self'), back), entry(rec('i-self'), back + 1)]));
    expect(sink.entries().map((e) => [e.instanceId, e.labels])).toEqual([
      ['i-self', { role: 'batch', version: '7', slot: '0' }],
      ['i-self', { role: 'batch', version: '7', slot: '0' }],
      ['i-self', { role: 'batch', version: '7', slot: '0' }],
    ]);
    expect(registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([['i-self', 0]]);
    expect(fleet.emitted.map((e) => [e.kind, e.time, e.text])).toEqual([
      ['launch', T, 'i-self launched (7, slot 0)'],
      ['terminate', T, 'i-self terminated (7, slot 0)'],
      ['launch', back, 'i-self returned (7, slot 0)'],
    ]);
    // Records from its first life still resolve to it, as they did.
    expect(registry.lookup('i-self', T)?.from).toBe(T);
    expect(registry.lookup('i-self', back)?.from).toBe(back);

    // The idle sweep still does its job: silent again, ended again, at its last record.
    clock.advance(5000);
    await sweepOnce();
    expect(registry.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt])).toEqual([
      ['i-self', back + 1],
    ]);
  });

  it('takes another slot when its own was given away while it was gone', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    // A newcomer of the same role takes the freed slot 0.
    await labeller.consume(batch([entry(rec('i-new'), clock.now())]));
    await labeller.consume(batch([entry(rec('i-self'), clock.now() + 10)]));
    expect(sink.entries().map((e) => [e.instanceId, e.labels?.slot])).toEqual([
      ['i-self', '0'],
      ['i-new', '0'],
      ['i-self', '1'],
    ]);
    expect(registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([
      ['i-new', 0],
      ['i-self', 1],
    ]);
  });

  it('is not brought back by a late record from before its end, nor after an authoritative end', async () => {
    const clock = fakeClock(T);
    const { registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T), entry(rec('i-gone'), T)]));
    clock.advance(5000);
    await sweepOnce();
    // Buffered and delivered late: it tells of its first life.
    await labeller.consume(batch([entry(rec('i-self'), T - 500)]));
    expect(registry.liveInstances()).toEqual([]);

    // i-gone speaks again (back), then EventBridge says it is terminated: an authoritative
    // end, which its records do not undo.
    const revived = clock.now() + 10;
    await labeller.consume(batch([entry(rec('i-gone'), revived)]));
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-gone']);
    registry.observe([
      { kind: 'terminated', at: revived + 100, instanceId: 'i-gone', source: 'eventbridge' },
    ]);
    await labeller.consume(batch([entry(rec('i-gone'), revived + 200)]));
    expect(registry.liveInstances()).toEqual([]);
    expect(fleet.emitted.filter((e) => e.instanceId === 'i-gone').map((e) => e.kind)).toEqual([
      'launch',
      'terminate',
      'launch',
      'terminate',
    ]);
  });

  it('is not brought back through an address, which a new instance may have been given', async () => {
    const clock = fakeClock(T);
    const { registry } = await setup(clock);
    registry.observe([
      {
        kind: 'running',
        at: T,
        source: 'static',
        facts: { instanceId: 'i-old', role: 'web', version: '1', privateIp: '10.0.0.7' },
      },
    ]);
    registry.noteSeen(registry.lookup('i-old', T)!, T);
    clock.advance(5000);
    await sweepOnce();
    expect(registry.lookup('10.0.0.7', clock.now())?.instanceId).toBe('i-old');
    expect(registry.liveInstances()).toEqual([]);
    expect(registry.lookup('i-old', clock.now())?.from).toBe(clock.now());
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-old']);
  });

  it('keeps the record flowing with its old labels when the store cannot persist the return', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    fleet.store.db.exec(
      `CREATE TRIGGER refuse BEFORE UPDATE ON registry_instances
       BEGIN SELECT RAISE(ABORT, 'SQLITE_FULL: database or disk is full'); END`,
    );
    const t = clock.now();
    await labeller.consume(batch([entry(rec('i-self'), t), entry(rec('i-self'), t + 1)]));
    expect(sink.entries().map((e) => e.labels)).toEqual([
      { role: 'batch', version: '7', slot: '0' },
      { role: 'batch', version: '7', slot: '0' },
      { role: 'batch', version: '7', slot: '0' },
    ]);
    expect(registry.liveInstances()).toEqual([]);
    // The store works again: the next record (after the 1 s pause) brings it back.
    fleet.store.db.exec('DROP TRIGGER refuse');
    clock.advance(1500);
    await labeller.consume(batch([entry(rec('i-self'), clock.now())]));
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-self']);
  });

  it('is registered again from its records when it speaks after the registry forgot it', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller } = await setup(clock, undefined, 2000);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce(); // ended for silence
    clock.advance(5000);
    await sweepOnce(); // and forgotten: terminated longer than the history window ago
    expect(registry.instances()).toEqual([]);
    await labeller.consume(batch([entry(rec('i-self'), clock.now())]));
    expect(sink.entries().map((e) => e.labels)).toEqual([
      { role: 'batch', version: '7', slot: '0' },
      { role: 'batch', version: '7', slot: '0' },
    ]);
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-self']);
  });

  it('comes back after a restart too: the idle end is remembered in the store', async () => {
    const clock = fakeClock(T);
    const dir = tempDir();
    let s = await setup(clock, dir);
    await s.labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    expect(s.registry.liveInstances()).toEqual([]);
    await stopCurrent();
    s = await setup(clock, dir);
    await s.labeller.consume(batch([entry(rec('i-self'), clock.now())]));
    expect(s.registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([['i-self', 0]]);
  });
});

// Edges of a return: an authoritative end that arrives after the idle sweep's, and a backlog
// of records too old to keep the instance alive.
describe('idle-ended instance: edges of its return', () => {
  const { setup, stopCurrent } = useRecordsFleet();

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

    await stopCurrent();
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

// What the returning record says wins: a records-only instance may come back running another
// version (or in another role) than when the sweep ended it. Its return is recorded as it is
// now, not as it was, and is followed only by what a real version change implies.
describe('idle-ended instance that returns changed', () => {
  const { setup } = useRecordsFleet();

  it('returns with the version its record says: one launch, no rollout of its own', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    const back = clock.now();
    await labeller.consume(batch([entry(rec('i-self', 'batch', '8'), back)]));
    expect(fleet.emitted.map((e) => [e.kind, e.time, e.text])).toEqual([
      ['launch', T, 'i-self launched (7, slot 0)'],
      ['terminate', T, 'i-self terminated (7, slot 0)'],
      ['launch', back, 'i-self returned (8, slot 0)'],
    ]);
    expect(sink.entries().map((e) => e.labels?.version)).toEqual(['7', '8']);
    expect(registry.liveInstances().map((i) => [i.instanceId, i.version])).toEqual([
      ['i-self', '8'],
    ]);
    expect(registry.lookup('i-self', T)?.version).toBe('7');
  });

  it('returns in the role its record says, without a terminate in the old one', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    const back = clock.now();
    await labeller.consume(batch([entry(rec('i-self', 'web', '7'), back)]));
    expect(fleet.emitted.map((e) => [e.kind, e.role, e.time, e.text])).toEqual([
      ['launch', 'batch', T, 'i-self launched (7, slot 0)'],
      ['terminate', 'batch', T, 'i-self terminated (7, slot 0)'],
      ['launch', 'web', back, 'i-self returned (7, slot 0)'],
    ]);
    expect(sink.entries().map((e) => e.labels?.role)).toEqual(['batch', 'web']);
    expect(registry.liveInstances().map((i) => [i.instanceId, i.role])).toEqual([
      ['i-self', 'web'],
    ]);
  });

  it('starts a rollout when the other members of its role run the old version, as any new version would', async () => {
    const clock = fakeClock(T);
    const { labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    const back = clock.now();
    await labeller.consume(batch([entry(rec('i-other'), back - 10)]));
    await labeller.consume(batch([entry(rec('i-self', 'batch', '8'), back)]));
    expect(fleet.emitted.filter((e) => e.time === back).map((e) => e.text)).toEqual([
      'i-self returned (8, slot 1)',
      'rollout 7 → 8 started (1/2)',
    ]);
  });

  it('keeps the role and version an authoritative source gave it', async () => {
    const clock = fakeClock(T);
    const { registry, labeller, fleet } = await setup(clock);
    registry.observe([
      {
        kind: 'running',
        at: T,
        source: 'static',
        facts: { instanceId: 'i-old', role: 'web', version: '1' },
      },
    ]);
    registry.noteSeen(registry.lookup('i-old', T)!, T);
    clock.advance(5000);
    await sweepOnce();
    const back = clock.now();
    await labeller.consume(batch([entry(rec('i-old', 'batch', '9'), back)]));
    expect(fleet.emitted.filter((e) => e.time === back).map((e) => [e.role, e.text])).toEqual([
      ['web', 'i-old returned (1, slot 0)'],
    ]);
  });
});

// Role/version values from records become labels, hence InfluxDB tags: one over the series
// key limit would get every record of its instance dead-lettered. Refused at the reporter.
describe('record-sourced role/version values out of bounds', () => {
  const { setup } = useRecordsFleet();
  const huge = 'x'.repeat(70_000);

  it('does not register an instance from a 70 KB role; its records flow as role=unknown', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-bad', huge), T), entry(rec('i-bad', huge), T + 1)]));
    expect(registry.instances()).toEqual([]);
    expect(sink.entries().map((e) => e.labels)).toEqual([
      { role: 'unknown', version: 'unknown' },
      { role: 'unknown', version: 'unknown' },
    ]);
    expect(await refusals(fleet, 'svc', 'too_long')).toBe(2);
  });

  it('keeps the labels of a known instance when its records start sending an overlong or blank value', async () => {
    const clock = fakeClock(T);
    const { sink, registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    await labeller.consume(
      batch([
        entry(rec('i-self', 'batch', 'v'.repeat(257)), T + 1),
        entry(rec('i-self', '  \t'), T + 2),
        entry(rec('i-self', 'b'.repeat(256), '8'), T + 3),
      ]),
    );
    expect(sink.entries().map((e) => e.labels?.role)).toEqual([
      'batch',
      'batch',
      'batch',
      'b'.repeat(256),
    ]);
    expect(registry.liveInstances().map((i) => [i.role, i.version])).toEqual([
      ['b'.repeat(256), '8'],
    ]);
    expect(await refusals(fleet, 'rev', 'too_long')).toBe(1);
    expect(await refusals(fleet, 'svc', 'blank')).toBe(1);
  });

  it('brings an idle-ended instance back with its old labels when the role in its record is overlong', async () => {
    const clock = fakeClock(T);
    const { registry, labeller, fleet } = await setup(clock);
    await labeller.consume(batch([entry(rec('i-self'), T)]));
    clock.advance(5000);
    await sweepOnce();
    const back = clock.now();
    await labeller.consume(batch([entry(rec('i-self', huge), back)]));
    expect(fleet.emitted.filter((e) => e.time === back).map((e) => [e.role, e.text])).toEqual([
      ['batch', 'i-self returned (7, slot 0)'],
    ]);
    expect(registry.liveInstances().map((i) => i.role)).toEqual(['batch']);
  });
});
