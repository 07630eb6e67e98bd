/** The registry on its own: lifecycle contract, sources, precedence, history and idle instances. */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/fleet/event-store.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { createFleetRegistry } from '../../src/fleet/registry.ts';
import { createSlotTable } from '../../src/fleet/slots.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import {
  type Fleet,
  lifecycleConfig,
  openFleet,
  registryConfig,
  tempDir,
} from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const up = (
  id: string,
  role: string | undefined,
  version: string,
  source: Observation['source'] = 'ec2',
  at = T,
): Observation => ({
  kind: 'running',
  at,
  source,
  facts: { instanceId: id, ...(role ? { role } : {}), version, privateIp: `10.9.0.${id.length}` },
});

describe('fleet registry', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('keeps the component contract: stop before start is a no-op, stop twice is safe, observations before start apply at start', async () => {
    const store = createStore(tempDir());
    const registry = createFleetRegistry(registryConfig(), testDeps(), {
      store,
      events: createEventStore(store),
    });
    await registry.stop();
    await registry.stop();
    const second = createFleetRegistry(registryConfig(), testDeps(), {
      store,
      events: createEventStore(store),
    });
    second.observe([up('i-early', 'web', '1')]);
    await store.start();
    await second.start();
    expect(second.liveInstances().map((i) => i.instanceId)).toEqual(['i-early']);
    await Promise.all([second.stop(), second.stop()]);
    await store.stop();
  });

  it('resolves by event time across a version change reported by an authoritative source', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-1', 'web', '1.0')]);
    r.observe([up('i-1', 'web', '1.1', 'ec2', T + 1000)]);
    expect(r.lookup('i-1', T + 500)?.version).toBe('1.0');
    expect(r.lookup('i-1', T + 1500)?.version).toBe('1.1');
    expect(r.lookup('i-1', T + 1500)?.slot).toBe(r.lookup('i-1', T + 500)?.slot);
    expect(r.members('web', '1.0', T, T + 2000)).toBe(1);
    expect(r.members('web', '1.0', T + 1000, T + 2000)).toBe(0);
    expect(r.members('web', '1.1', T, T + 999)).toBe(0);
  });

  it('waits for a role: an instance seen without one is registered once a source names its role', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-2', undefined, '3')]);
    expect(r.lookup('i-2', T)).toBeUndefined();
    r.observe([
      {
        kind: 'running',
        at: T + 10,
        source: 'eventbridge',
        facts: { instanceId: 'i-2', role: 'db' },
      },
    ]);
    expect(r.lookup('10.9.0.3', T + 20)).toMatchObject({
      instanceId: 'i-2',
      role: 'db',
      version: '3',
    });
  });

  it('terminates on a snapshot only what that source listed before', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-ec2', 'web', '1', 'ec2'), up('i-static', 'web', '1', 'static')]);
    r.observe([{ kind: 'snapshot', at: T + 5, instances: [], source: 'ec2' }]);
    expect(r.liveInstances().map((i) => i.instanceId)).toEqual(['i-static']);
    expect(r.instances({ live: false })[0]).toMatchObject({
      instanceId: 'i-ec2',
      terminatedAt: T + 5,
    });
  });

  it('applies a CI deploy as a deploy event, stored and handed to onEvents', async () => {
    fleet = await openFleet();
    fleet.registry.observe([
      { kind: 'deploy', at: T, role: 'web', version: '2', phase: 'finished', source: 'deploy-api' },
    ]);
    expect(fleet.emitted).toEqual([
      expect.objectContaining({ kind: 'deploy', role: 'web', text: 'deploy of 2 finished' }),
    ]);
    expect(fleet.events.query({ limit: 10, kind: 'deploy' }).events).toEqual(fleet.emitted);
  });

  it('treats an instance silent for lifecycle.idle_terminate as gone', async () => {
    const clock = fakeClock(T);
    fleet = await openFleet({
      deps: testDeps({ clock }),
      lifecycle: lifecycleConfig({ idle_terminate: '1s' }),
    });
    const r = fleet.registry;
    r.observe([up('i-quiet', 'web', '1'), up('i-never-seen', 'web', '1')]);
    r.noteSeen(r.lookup('i-quiet', T)!, T + 100);
    clock.advance(5000);
    await new Promise((res) => setTimeout(res, 1300));
    expect(r.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt])).toEqual([
      ['i-quiet', T + 100],
    ]);
    expect(r.liveInstances().map((i) => i.instanceId)).toEqual(['i-never-seen']);
  });

  it('forgets instances terminated longer than the history window ago, in memory and on disk', async () => {
    const clock = fakeClock(T);
    const dir = tempDir();
    const historyMs = 3_600_000;
    fleet = await openFleet({ dir, deps: testDeps({ clock }), historyMs });
    const r = fleet.registry;
    r.observe([up('i-gone', 'web', '1'), up('i-kept', 'web', '1')]);
    r.observe([{ kind: 'terminated', at: T + 1000, instanceId: 'i-gone', source: 'ec2' }]);
    await fleet.stop();
    clock.advance(2 * 3_600_000);
    fleet = await openFleet({ dir, deps: testDeps({ clock }), historyMs });
    expect(fleet.registry.instances().map((i) => i.instanceId)).toEqual(['i-kept']);
    expect(fleet.registry.lookup('i-gone', T + 500)).toBeUndefined();
    expect(fleet.store.db.prepare('SELECT count(*) AS n FROM registry_spans').get()).toEqual({
      n: 1,
    });
    expect(fleet.events.query({ limit: 10, kind: 'terminate' }).events).toHaveLength(1);
  });
});

describe('slot table', () => {
  it('keeps slots unique and within [0, peak) for any acquire/release sequence, with or without a preferred slot', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(20), fc.option(fc.nat(20), { nil: undefined })), {
          maxLength: 200,
        }),
        (script) => {
          const t = createSlotTable();
          const held: number[] = [];
          let peak = 0;
          for (const [acquire, pick, preferred] of script) {
            if (acquire || held.length === 0) held.push(t.acquire('r', preferred));
            else t.release('r', held.splice(pick % held.length, 1)[0]!);
            peak = Math.max(peak, held.length);
            expect(new Set(held).size).toBe(held.length);
            expect(t.used('r')).toEqual([...held].sort((a, b) => a - b));
            for (const s of held) expect(s).toBeLessThan(peak);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
