/** The registry when persisting an observation pass fails. */
import { describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/fleet/event-store.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { createFleetRegistry } from '../../src/fleet/registry.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { lifecycleConfig, registryConfig, tempDir } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const up = (id: string, at = T): Observation => ({
  kind: 'running',
  at,
  source: 'ec2',
  facts: { instanceId: id, role: 'web', version: '1', privateIp: '10.0.0.9' },
});

describe('fleet registry persistence failure', () => {
  it('keeps memory at what the store holds, so the same facts reported again give their events', async () => {
    const dir = tempDir();
    const store = createStore(dir);
    const events = createEventStore(store);
    const handed: LifecycleEvent[] = [];
    let refuse = false;
    const registry = createFleetRegistry(registryConfig(), testDeps(), {
      store,
      events,
      onEvents: (e) => handed.push(...e),
      eventsInTransaction: () => {
        if (refuse) throw new Error('spool is not started; cannot append');
      },
    });
    await store.start();
    await registry.start();
    registry.observe([up('i-a')]);
    registry.noteSeen(registry.lookup('i-a', T + 5)!, T + 5);
    refuse = true;
    expect(() => registry.observe([up('i-b', T + 10)])).toThrow(/spool/);
    expect(() =>
      registry.observe([{ kind: 'terminated', at: T + 20, instanceId: 'i-a', source: 'ec2' }]),
    ).toThrow(/spool/);
    // Memory is what SQLite holds: i-a live in slot 0, no i-b.
    expect(registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([['i-a', 0]]);
    expect(registry.lookup('10.0.0.9', T + 30)?.instanceId).toBe('i-a');
    expect(registry.instances()[0]?.lastSeenAt).toBe(T + 5);
    refuse = false;
    registry.observe([up('i-b', T + 10)]);
    registry.observe([{ kind: 'terminated', at: T + 20, instanceId: 'i-a', source: 'ec2' }]);
    expect(handed.map((e) => e.text)).toEqual([
      'i-a launched (1, slot 0)',
      'i-b launched (1, slot 1)',
      'i-a terminated (1, slot 0)',
    ]);
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-b']);
    await registry.stop();
    await store.stop();
  });
});

describe('fleet registry sweep failure', () => {
  it('keeps a failing idle sweep inside the registry and ends the instance once it can', async () => {
    const clock = fakeClock(T);
    const store = createStore(tempDir());
    let refuse = false;
    const registry = createFleetRegistry(registryConfig(), testDeps({ clock }), {
      store,
      events: createEventStore(store),
      lifecycle: lifecycleConfig({ idle_terminate: '1s' }),
      eventsInTransaction: () => {
        if (refuse) throw new Error('SQLITE_FULL: database or disk is full');
      },
    });
    await store.start();
    await registry.start();
    registry.observe([up('i-a')]);
    registry.noteSeen(registry.lookup('i-a', T)!, T + 100);
    refuse = true;
    clock.advance(5000);
    await new Promise((res) => setTimeout(res, 1200));
    expect(registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-a']);
    refuse = false;
    await new Promise((res) => setTimeout(res, 1200));
    expect(registry.instances({ live: false }).map((i) => i.instanceId)).toEqual(['i-a']);
    await registry.stop();
    await store.stop();
  });
});
