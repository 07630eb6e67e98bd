/** The registry's lifecycle events when sources repeat themselves or report out of order. */
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/fleet/event-store.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { createFleetRegistry } from '../../src/fleet/registry.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { type Fleet, openFleet, registryConfig, tempDir } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const up = (
  id: string,
  role: string,
  version: string,
  at = T,
  source: Observation['source'] = 'ec2',
): Observation => ({ kind: 'running', at, source, facts: { instanceId: id, role, version } });

describe('fleet registry events', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('never reports an instance that comes back as replacing itself, and gives it its slot back', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-a', 'web', '1'), up('i-b', 'web', '1')]);
    // e.g. the idle sweep ended it, then EC2 lists it again
    r.observe([{ kind: 'terminated', at: T + 10, instanceId: 'i-a', source: 'records' }]);
    r.observe([up('i-a', 'web', '1', T + 20)]);
    expect(fleet.emitted.filter((e) => e.kind === 'replace')).toEqual([]);
    expect(r.lookup('i-a', T + 30)?.slot).toBe(0);
    expect(r.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([
      ['i-a', 0],
      ['i-b', 1],
    ]);
  });

  it('still pairs a real replacement after an instance came back', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-a', 'web', '1'), up('i-b', 'web', '1')]);
    r.observe([{ kind: 'terminated', at: T + 10, instanceId: 'i-a', source: 'records' }]);
    r.observe([up('i-a', 'web', '1', T + 20)]);
    r.observe([{ kind: 'terminated', at: T + 30, instanceId: 'i-b', source: 'ec2' }]);
    r.observe([up('i-c', 'web', '1', T + 40)]);
    expect(fleet.emitted.filter((e) => e.kind === 'replace').map((e) => e.text)).toEqual([
      'i-b → i-c (1, fault, slot 1)',
    ]);
  });

  it('hands a fact reported twice on once: to onEvents and to the transaction hook', async () => {
    const store = createStore(tempDir());
    const events = createEventStore(store);
    const handed: LifecycleEvent[] = [];
    const inTransaction: LifecycleEvent[] = [];
    const registry = createFleetRegistry(registryConfig(), testDeps(), {
      store,
      events,
      onEvents: (e) => handed.push(...e),
      eventsInTransaction: (_db, e) => inTransaction.push(...e),
    });
    await store.start();
    await registry.start();
    const deploy: Observation = {
      kind: 'deploy',
      at: T,
      role: 'web',
      version: '2',
      phase: 'finished',
      source: 'deploy-api',
    };
    registry.observe([deploy]);
    registry.observe([deploy]); // a CI job retrying its POST
    registry.observe([deploy, deploy]);
    registry.observe([{ ...deploy, at: T + 1 }]);
    expect(handed.map((e) => e.time)).toEqual([T, T + 1]);
    expect(inTransaction).toEqual(handed);
    expect(events.query({ limit: 10 }).events).toEqual(handed);
    await registry.stop();
    await store.stop();
  });

  it('keeps an instance terminated when its termination arrives before its launch', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([{ kind: 'terminated', at: T + 10, instanceId: 'i-a', source: 'eventbridge' }]);
    r.observe([up('i-a', 'web', '1', T, 'eventbridge')]);
    expect(r.liveInstances()).toEqual([]);
    expect(r.instances({ live: false })).toEqual([
      expect.objectContaining({ instanceId: 'i-a', terminatedAt: T + 10, launchedAt: T }),
    ]);
    expect(r.lookup('i-a', T + 5)?.role).toBe('web');
    expect(fleet.emitted.map((e) => e.kind)).toEqual(['launch', 'terminate']);
    // Listed running after its end, it comes back, as a known instance would.
    r.observe([up('i-a', 'web', '1', T + 20, 'eventbridge')]);
    expect(r.liveInstances().map((i) => i.instanceId)).toEqual(['i-a']);
  });

  it('remembers a termination reported before the launch across a restart', async () => {
    const dir = tempDir();
    fleet = await openFleet({ dir });
    fleet.registry.observe([
      { kind: 'terminated', at: T + 10, instanceId: 'i-a', source: 'eventbridge' },
    ]);
    await fleet.stop();
    fleet = await openFleet({ dir });
    fleet.registry.observe([up('i-a', 'web', '1', T, 'eventbridge')]);
    expect(fleet.registry.liveInstances()).toEqual([]);
    expect(fleet.registry.instances()[0]).toMatchObject({
      instanceId: 'i-a',
      terminatedAt: T + 10,
    });
    // Used once: gone from the store as well.
    await fleet.stop();
    fleet = await openFleet({ dir });
    expect(
      fleet.store.db.prepare('SELECT count(*) AS n FROM registry_ended_unknown').get(),
    ).toEqual({ n: 0 });
  });

  it('does not end an instance launched after a termination reported before it was known', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([{ kind: 'terminated', at: T, instanceId: 'i-a', source: 'eventbridge' }]);
    r.observe([up('i-a', 'web', '1', T + 10, 'eventbridge')]);
    expect(r.liveInstances().map((i) => i.instanceId)).toEqual(['i-a']);
    expect(fleet.emitted.map((e) => e.kind)).toEqual(['launch']);
  });
});

describe('fleet registry, records reporting out of order', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });
  const seen = (version: string, at: number): Observation => ({
    kind: 'seen',
    at,
    source: 'records',
    facts: { instanceId: 'i-rec', role: 'batch', version },
  });

  it('does not let a late record of the previous version undo a version change', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([seen('1', T)]);
    r.observe([seen('2', T + 100)]);
    r.observe([seen('1', T + 50)]); // buffered, delivered late
    expect(r.lookup('i-rec', T + 60)?.version).toBe('1');
    expect(r.lookup('i-rec', T + 150)?.version).toBe('2');
    expect(fleet.emitted.filter((e) => e.kind.startsWith('rollout')).map((e) => e.text)).toEqual([
      'rollout 1 → 2 started (1/1)',
      'rollout 1 → 2 finished (1/1)',
    ]);
    expect(r.liveInstances().map((i) => i.version)).toEqual(['2']);
  });
});
