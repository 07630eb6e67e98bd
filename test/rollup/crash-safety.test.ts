import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/entry.ts';
import { createRollupEngine, type RollupEngine } from '../../src/rollup/engine.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { entry, prng, ROLLUP_DEFAULTS, spooled, T0 } from './fixtures.ts';
import { spoolDouble } from './spool-double.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function engineOn(store: Store, spool: ReturnType<typeof spoolDouble>): RollupEngine {
  return createRollupEngine(ROLLUP_DEFAULTS, testDeps({ clock: fakeClock(T0 + 5000) }), {
    store,
    spool,
    members: () => 1,
    roleVersions: () => [],
  });
}

function totals(engine: RollupEngine): { events: number; count: number; sum: number } {
  const rows = engine.query({ since: 0, until: T0 + 3_600_000 });
  return rows.reduce(
    (t, r) => ({
      events: t.events + r.fields.events!,
      count: t.count + (r.fields.reqtime_count ?? 0),
      sum: t.sum + (r.fields.reqtime_sum ?? 0),
    }),
    { events: 0, count: 0, sum: 0 },
  );
}

describe('rollup crash safety', () => {
  it('after a crash, replaying the unconfirmed batches gives totals equal to the entries exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-crash-'));
    dirs.push(dir);
    const rnd = prng(7);
    const entries: Entry[] = [];
    for (let i = 0; i < 2000; i++)
      entries.push(
        entry(
          T0 + Math.floor(rnd() * 30_000),
          { reqtime: Math.round(rnd() * 1000), level: rnd() < 0.1 ? 'error' : 'info' },
          { role: rnd() < 0.5 ? 'web' : 'api', version: '1.0' },
        ),
      );
    const batches = spooled(entries, 50);

    // Run 1: 25 of 40 batches commit; the 26th is delivered (its function built) but the
    // process dies before the transaction runs.
    let store = createStore(dir);
    await store.start();
    let spool = spoolDouble(store);
    let engine = engineOn(store, spool);
    for (const b of batches.slice(0, 25)) await spool.deliver(engine, [b]);
    await engine.deliver([batches[25]!]);
    expect(spool.progress()).toBe(25);
    // "Crash": the engine is dropped without stop(); the connection is closed as the OS would.
    store.db.close();

    // Run 2: a fresh store handle and engine; the spool replays everything after its progress.
    store = createStore(dir);
    await store.start();
    spool = spoolDouble(store);
    engine = engineOn(store, spool);
    const confirmed = spool.progress();
    for (const b of batches.filter((x) => x.seq > confirmed)) await spool.deliver(engine, [b]);

    const expectedSum = entries.reduce((s, e) => s + (e.record.reqtime as number), 0);
    expect(totals(engine)).toEqual({ events: 2000, count: 2000, sum: expectedSum });
    const errors = engine
      .query({ since: 0, until: T0 + 3_600_000 })
      .reduce((s, r) => s + (r.fields.level_error ?? 0), 0);
    expect(errors).toBe(entries.filter((e) => e.record.level === 'error').length);
    await engine.stop();
    await store.stop();
  });

  it('a transaction that throws after the rollup’s function leaves nothing applied; the retry applies it once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-crash-'));
    dirs.push(dir);
    const store = createStore(dir);
    await store.start();
    const spool = spoolDouble(store);
    const engine = engineOn(store, spool);
    const batches = spooled(
      Array.from({ length: 30 }, (_, i) => entry(T0 + i * 100, { reqtime: i })),
      10,
    );
    await spool.deliver(engine, [batches[0]!]);
    const before = totals(engine);
    await expect(spool.deliver(engine, [batches[1]!], { throwAfter: true })).rejects.toThrow();
    expect(totals(engine)).toEqual(before);
    expect(spool.progress()).toBe(1);
    // The spool offers the same batch again, then the next one.
    await spool.deliver(engine, [batches[1]!]);
    await spool.deliver(engine, [batches[2]!]);
    expect(totals(engine)).toEqual({ events: 30, count: 30, sum: 435 });
    await engine.stop();
    await store.stop();
  });

  it('emission survives a crash between the close transaction and the next tick without loss or duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-crash-'));
    dirs.push(dir);
    let store = createStore(dir);
    await store.start();
    let spool = spoolDouble(store);
    const clock = fakeClock(T0 + 5000);
    const make = () =>
      createRollupEngine(ROLLUP_DEFAULTS, testDeps({ clock }), {
        store,
        spool,
        members: () => 1,
        roleVersions: () => [{ role: 'web', version: '1.0' }],
      });
    let engine = make();
    await spool.deliver(
      engine,
      spooled([entry(T0 + 1, { reqtime: 1 }), entry(T0 + 10_001, { reqtime: 2 })], 5),
    );
    clock.set(T0 + 12_500);
    engine.tick();
    store.db.close();

    store = createStore(dir);
    await store.start();
    spool = spoolDouble(store);
    engine = make();
    clock.set(T0 + 22_500);
    engine.tick();
    engine.tick();
    const out = spool.appended().map((e) => [e.tag, e.sec - T0 / 1000]);
    expect(out).toEqual([
      ['fleet_rollup', 0],
      ['fleet_members', 0],
      ['fleet_rollup', 10],
      ['fleet_members', 10],
    ]);
    await engine.stop();
    await store.stop();
  });
});
