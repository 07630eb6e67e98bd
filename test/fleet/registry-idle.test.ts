/** The idle sweep (`lifecycle.idle_terminate`) next to sources that list what they own. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { SEEN_SKEW_MS } from '../../src/fleet/registry.ts';
import { STORE_FILE } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { type Fleet, lifecycleConfig, openFleet, tempDir } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const listing = (at: number, source: 'ec2' | 'static' = 'ec2'): Observation => ({
  kind: 'snapshot',
  at,
  source,
  instances: [{ instanceId: 'i-quiet', role: 'web', version: '1', launchedAt: T }],
});
const sweepOnce = () => new Promise((res) => setTimeout(res, 1100));

describe('fleet registry idle sweep', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('ends a silent instance once, not again at every sweep after EC2 listed it again', async () => {
    const clock = fakeClock(T);
    fleet = await openFleet({
      deps: testDeps({ clock }),
      lifecycle: lifecycleConfig({ idle_terminate: '1s' }),
    });
    const r = fleet.registry;
    r.observe([listing(T)]);
    r.noteSeen(r.lookup('i-quiet', T)!, T + 100);
    for (let poll = 1; poll <= 3; poll++) {
      clock.advance(5000);
      await sweepOnce();
      r.observe([listing(clock.now())]);
    }
    // Silent: ended at its last record. Listed again: back, and its idle clock starts over.
    expect(fleet.emitted.map((e) => e.kind)).toEqual(['launch', 'terminate', 'launch']);
    expect(r.liveInstances().map((i) => i.instanceId)).toEqual(['i-quiet']);
    // Records again, then silence again: ended again.
    const seenAt = clock.now() + 10;
    r.noteSeen(r.lookup('i-quiet', seenAt)!, seenAt);
    clock.advance(5000);
    await sweepOnce();
    expect(r.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt])).toEqual([
      ['i-quiet', seenAt],
    ]);
  });
});

describe('fleet registry idle sweep after a restart', () => {
  it('does not end instances for the downtime: only after an idle period of listening', async () => {
    const clock = fakeClock(T);
    const dir = tempDir();
    const lifecycle = lifecycleConfig({ idle_terminate: '1s' });
    let fleet = await openFleet({ dir, deps: testDeps({ clock }), lifecycle });
    fleet.registry.observe([listing(T, 'static')]);
    fleet.registry.noteSeen(fleet.registry.lookup('i-quiet', T)!, T + 100);
    await fleet.stop();
    clock.advance(60_000); // down for a minute
    fleet = await openFleet({ dir, deps: testDeps({ clock }), lifecycle });
    try {
      await sweepOnce();
      expect(fleet.registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-quiet']);
      clock.advance(5000); // and then silent while listening
      await sweepOnce();
      expect(fleet.registry.liveInstances()).toEqual([]);
    } finally {
      await fleet.stop();
    }
  });
});

describe('fleet registry idle sweep and future-dated records', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('caps the seen time at the clock plus a skew allowance, so a bogus time keeps nobody alive', async () => {
    const clock = fakeClock(T);
    fleet = await openFleet({
      deps: testDeps({ clock }),
      lifecycle: lifecycleConfig({ idle_terminate: '1s' }),
    });
    const r = fleet.registry;
    r.observe([listing(T)]);
    // An agent whose clock runs a day ahead (or a record with a bogus timestamp).
    const bogus = T + 86_400_000;
    r.noteSeen(r.lookup('i-quiet', bogus)!, bogus);
    const [seen] = r.instances().map((i) => i.lastSeenAt!);
    expect(seen).toBeLessThanOrEqual(T + SEEN_SKEW_MS);
    expect(seen).toBeGreaterThanOrEqual(T);
    // Silent for an idle period after the capped time: ended, at that time, not a day later.
    clock.advance(SEEN_SKEW_MS + 5000);
    await sweepOnce();
    expect(r.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt])).toEqual([
      ['i-quiet', seen],
    ]);
    expect(await metricValue(fleet.deps, 'fleetline_fleet_future_records_total')).toBe(1);
  });

  it('caps a future last-seen time loaded from the store, written before the cap existed', async () => {
    const clock = fakeClock(T);
    const dir = tempDir();
    const lifecycle = lifecycleConfig({ idle_terminate: '1s' });
    let f = await openFleet({ dir, deps: testDeps({ clock }), lifecycle });
    f.registry.observe([listing(T, 'static')]);
    await f.stop();
    const db = new Database(join(dir, STORE_FILE));
    db.prepare('UPDATE registry_instances SET last_seen_at = ?').run(T + 86_400_000);
    db.close();
    f = await openFleet({ dir, deps: testDeps({ clock }), lifecycle });
    fleet = f;
    clock.advance(SEEN_SKEW_MS + 5000);
    await sweepOnce();
    expect(f.registry.liveInstances()).toEqual([]);
  });
});
