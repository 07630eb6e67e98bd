import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/load.ts';
import type { Entry } from '../../src/core/entry.ts';
import { startAll, stopAll } from '../../src/core/lifecycle.ts';
import { createRollupEngine } from '../../src/rollup/engine.ts';
import type { SpoolConsumer } from '../../src/spool/contract.ts';
import { createSpool } from '../../src/spool/spool.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { entry, ROLLUP_DEFAULTS, T0 } from '../rollup/fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('rollup on the real spool', () => {
  it('aggregates spooled entries, emits fleet_rollup/fleet_members through the spool to the other consumers, and re-emits on late entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-spool-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = fakeClock(T0 + 5000);
    const store = createStore(dir);
    const spoolConfig = { ...defaultConfig().spool, commit_interval: '1ms', retry_initial: '10ms' };
    const spool = createSpool(spoolConfig, testDeps(), store);
    const engine = createRollupEngine(ROLLUP_DEFAULTS, testDeps({ clock }), {
      store,
      spool,
      members: (role) => (role === 'web' ? 2 : 0),
      roleVersions: () => [{ role: 'web', version: '1.0' }],
    });
    // Stands in for the InfluxDB writer: everything the spool delivers after the rollup.
    const written: Entry[] = [];
    const influx: SpoolConsumer = {
      name: 'influxdb',
      async deliver(batches) {
        for (const b of batches) written.push(...b.batch.entries);
      },
    };
    spool.register(engine);
    spool.register(influx);
    // The order the composition root uses: the rollup stops (and emits what is due) while the
    // spool still accepts its points.
    const components = [store, spool, engine];
    await startAll(components);
    cleanups.push(() => stopAll(components));

    await spool.consume({
      entries: [
        entry(T0 + 100, { reqtime: 10, level: 'info', status: 200 }, undefined, 'app', 'i-1'),
        entry(T0 + 200, { reqtime: 30, level: 'error', status: 502 }, undefined, 'app', 'i-2'),
      ],
      origin: { input: 'forward' },
      receivedAt: Date.now(),
    });
    await until('the rollup to apply the batch', () =>
      engine.query({ since: T0, until: T0 + 1 })[0]?.fields.events === 2 ? true : undefined,
    );

    clock.set(T0 + 12_000);
    engine.tick();
    const rollups = () => written.filter((e) => e.tag === 'fleet_rollup');
    const first = await until('the fleet_rollup point', () => rollups()[0]);
    expect(first.tags).toEqual({ role: 'web', version: '1.0', measurement: 'app' });
    expect(first.record).toMatchObject({
      events: 2n,
      level_info: 1n,
      level_error: 1n,
      status_2xx: 1n,
      status_5xx: 1n,
      reqtime_count: 2n,
      reqtime_sum: 40,
      reqtime_max: 30,
    });
    const members = await until('the members point', () =>
      written.find((e) => e.tag === 'fleet_members'),
    );
    expect([members.tags, members.record, members.sec]).toEqual([
      { role: 'web', version: '1.0' },
      { members: 2n },
      T0 / 1000,
    ]);

    await spool.consume({
      entries: [entry(T0 + 300, { reqtime: 50, level: 'error' }, undefined, 'app', 'i-3')],
      origin: { input: 'forward' },
      receivedAt: Date.now(),
    });
    const reemit = await until('the re-emitted point', () => rollups()[1]);
    expect([reemit.sec, reemit.nsec, reemit.record.events, reemit.record.level_error]).toEqual([
      T0 / 1000,
      0,
      3n,
      2n,
    ]);
    // The rollup saw its own points come back through the spool and ignored them.
    expect(engine.query({ since: T0, until: T0 + 1 }).map((r) => r.fields.events)).toEqual([3]);
    expect(engine.query({ since: 0, until: T0 + 1e9 })).toHaveLength(1);
  });

  it('stop() emits the intervals that are due into the spool, and the spool delivers them after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-spool-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = fakeClock(T0 + 5000);
    const spoolConfig = { ...defaultConfig().spool, commit_interval: '1ms', retry_initial: '10ms' };
    const written: Entry[] = [];
    const run = (openInflux: boolean) => {
      const store = createStore(dir);
      const spool = createSpool(spoolConfig, testDeps(), store);
      const engine = createRollupEngine(ROLLUP_DEFAULTS, testDeps({ clock }), {
        store,
        spool,
        members: () => 1,
        roleVersions: () => [],
      });
      spool.register(engine);
      spool.register({
        name: 'influxdb',
        async deliver(batches) {
          // The first run's InfluxDB is down: nothing is confirmed, everything stays spooled.
          if (!openInflux) throw new Error('influxdb unavailable');
          for (const b of batches) written.push(...b.batch.entries);
        },
      });
      return { store, spool, engine, components: [store, spool, engine] };
    };

    const first = run(false);
    await startAll(first.components);
    await first.spool.consume({
      entries: [entry(T0 + 100, { reqtime: 10 })],
      origin: { input: 'forward' },
      receivedAt: Date.now(),
    });
    await until('the rollup to apply the batch', () =>
      first.engine.query({ since: T0, until: T0 + 1 }).length === 1 ? true : undefined,
    );
    clock.set(T0 + 12_000);
    await stopAll(first.components);

    const second = run(true);
    await startAll(second.components);
    cleanups.push(() => stopAll(second.components));
    const point = await until('the fleet_rollup point after restart', () =>
      written.find((e) => e.tag === 'fleet_rollup'),
    );
    expect([point.sec, point.record.events, point.record.reqtime_max]).toEqual([T0 / 1000, 1n, 10]);
    expect(written.filter((e) => e.tag === 'fleet_rollup')).toHaveLength(1);
  });
});
