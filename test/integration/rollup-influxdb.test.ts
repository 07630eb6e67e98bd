import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { Entry } from '../../src/core/entry.ts';
import { startAll, stopAll } from '../../src/core/lifecycle.ts';
import { createRollupEngine } from '../../src/rollup/engine.ts';
import { RELATIVE_ACCURACY } from '../../src/rollup/quantile-sketch.ts';
import { createInfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import { createSpool } from '../../src/spool/spool.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { freshDatabase, influxRows, influxUrl } from '../helpers/influxdb.ts';
import { entry, exactQuantile, prng, T0 } from '../rollup/fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('rollups in InfluxDB', () => {
  it('writes fleet_rollup with merged percentiles and fleet_members; a late entry rewrites the interval point', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-influx-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = await freshDatabase('rollup');
    const { config } = parseConfig({
      data_dir: dir,
      influxdb: { url: influxUrl(), database: db },
      spool: { commit_interval: '1ms', retry_initial: '10ms' },
    });
    const clock = fakeClock(T0 + 5000);
    const store = createStore(dir);
    const spool = createSpool(config.spool, testDeps(), store);
    const writer = createInfluxWriter(config.influxdb!, config.schema, testDeps(), { store });
    const engine = createRollupEngine(config.rollup, testDeps({ clock }), {
      store,
      spool,
      members: (role) => (role === 'web' ? 3 : 0),
      roleVersions: () => [
        { role: 'web', version: '1.0' },
        { role: 'api', version: '2.0' },
      ],
    });
    spool.register(engine);
    spool.register(writer);
    const components = [store, writer, spool, engine];
    await startAll(components);
    cleanups.push(() => stopAll(components));

    const rnd = prng(3);
    const values: number[] = [];
    const entries: Entry[] = [];
    for (let i = 0; i < 600; i++) {
      const inst = ['i-fast', 'i-slow', 'i-tail'][i % 3]!;
      const v =
        inst === 'i-fast'
          ? 2 + rnd() * 3
          : inst === 'i-slow'
            ? (rnd() < 0.5 ? 50 : 900) + rnd() * 50
            : 10 / (1 - rnd()) ** 0.8;
      values.push(v);
      entries.push(
        entry(
          T0 + i * 10,
          { reqtime: v, status: i % 10 === 0 ? 500 : 200 },
          undefined,
          'app.access',
          inst,
        ),
      );
    }
    await spool.consume({ entries, origin: { input: 'forward' }, receivedAt: Date.now() });
    await until('the rollup to apply', async () =>
      engine.query({ since: T0, until: T0 + 1 })[0]?.fields.events === 600 ? true : undefined,
    );
    clock.set(T0 + 12_000);
    engine.tick();

    // `measurement` is an InfluxQL keyword: as a tag key it must be double-quoted.
    const q = `SELECT * FROM fleet_rollup WHERE "measurement" = 'app.access'`;
    const [row] = await until('the fleet_rollup point in InfluxDB', async () => {
      const rows = await influxRows(q, db);
      return rows.length > 0 ? rows : undefined;
    });
    expect(row).toMatchObject({
      time: T0,
      role: 'web',
      version: '1.0',
      events: 600,
      status_2xx: 540,
      status_5xx: 60,
      reqtime_count: 600,
    });
    for (const [f, p] of [
      ['reqtime_p50', 0.5],
      ['reqtime_p95', 0.95],
      ['reqtime_p99', 0.99],
    ] as const) {
      const exact = exactQuantile(values, p);
      expect(Math.abs((row![f] as number) - exact)).toBeLessThanOrEqual(
        RELATIVE_ACCURACY * exact * (1 + 1e-9),
      );
    }
    const members = await until('the fleet_members points', async () => {
      const rows = await influxRows('SELECT * FROM fleet_members', db);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(members.map((m) => [m.time, m.role, m.version, m.members])).toEqual([
      [T0, 'api', '2.0', 0],
      [T0, 'web', '1.0', 3],
    ]);

    await spool.consume({
      entries: [
        entry(T0 + 9_000, { reqtime: 5000, status: 503 }, undefined, 'app.access', 'i-late'),
      ],
      origin: { input: 'forward' },
      receivedAt: Date.now(),
    });
    const rewritten = await until('the rewritten point', async () => {
      const rows = await influxRows(q, db);
      return rows[0]?.events === 601 ? rows : undefined;
    });
    expect(rewritten).toHaveLength(1);
    expect(rewritten[0]).toMatchObject({
      time: T0,
      status_5xx: 61,
      reqtime_max: 5000,
      reqtime_count: 601,
    });
  });
});
