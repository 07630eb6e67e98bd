import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RollupConfig } from '../../src/config/schema.ts';
import type { Entry, RecordMap } from '../../src/core/entry.ts';
import { createRollupEngine, type RollupEngine } from '../../src/rollup/engine.ts';
import { RELATIVE_ACCURACY } from '../../src/rollup/quantile-sketch.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type FakeClock, fakeClock } from '../helpers/fake-clock.ts';
import { entry, exactQuantile, prng, ROLLUP_DEFAULTS, spooled, T0 } from './fixtures.ts';
import { type SpoolDouble, spoolDouble } from './spool-double.ts';

interface Rig {
  dir: string;
  store: Store;
  spool: SpoolDouble;
  engine: RollupEngine;
  clock: FakeClock;
  deps: ReturnType<typeof testDeps>;
  members: [string, string, number, number][];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(
  opts: {
    config?: Partial<RollupConfig>;
    roleVersions?: { role: string; version: string }[];
    membersOf?: (role: string, version: string) => number;
    dir?: string;
    clock?: FakeClock;
  } = {},
): Promise<Rig> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fleetline-rollup-'));
  const store = createStore(dir);
  await store.start();
  const clock = opts.clock ?? fakeClock(T0 + 5000);
  const deps = testDeps({ clock });
  const spool = spoolDouble(store);
  const members: Rig['members'] = [];
  const engine = createRollupEngine({ ...ROLLUP_DEFAULTS, ...opts.config }, deps, {
    store,
    spool,
    roleVersions: () => opts.roleVersions ?? [],
    members: (role, version, from, to) => {
      members.push([role, version, from, to]);
      return opts.membersOf?.(role, version) ?? 0;
    },
  });
  await engine.start();
  cleanups.push(async () => {
    await engine.stop();
    await store.stop();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  });
  return { dir, store, spool, engine, clock, deps, members };
}

function rollupPoints(spool: SpoolDouble): Entry[] {
  return spool.appended().filter((e) => e.tag === 'fleet_rollup');
}

function withinBound(estimate: unknown, exact: number): void {
  expect(typeof estimate).toBe('number');
  expect(Math.abs((estimate as number) - exact)).toBeLessThanOrEqual(
    RELATIVE_ACCURACY * Math.abs(exact) * (1 + 1e-9),
  );
}

describe('rollup engine', () => {
  it('computes role p50/p95/p99 from all instances’ raw values, not from per-instance percentiles', async () => {
    const r = await rig();
    const rnd = prng(42);
    const byInstance: Record<string, number[]> = { 'i-fast': [], 'i-bimodal': [], 'i-heavy': [] };
    const entries: Entry[] = [];
    const add = (inst: string, v: number) => {
      byInstance[inst]!.push(v);
      entries.push(
        entry(T0 + Math.floor(rnd() * 10_000), { reqtime: v }, undefined, 'app.access', inst),
      );
    };
    for (let i = 0; i < 3000; i++) add('i-fast', 5 + rnd() * 10);
    for (let i = 0; i < 1000; i++)
      add('i-bimodal', rnd() < 0.5 ? 15 + rnd() * 10 : 380 + rnd() * 40);
    for (let i = 0; i < 1000; i++) add('i-heavy', 10 / (1 - rnd()) ** (1 / 1.2));
    // Interleave instances across deliveries, as the spool would.
    entries.sort(() => rnd() - 0.5);
    for (const b of spooled(entries, 700)) await r.spool.deliver(r.engine, [b]);

    r.clock.set(T0 + 12_001);
    expect(r.engine.tick()).toBe(1);
    const [point, ...rest] = rollupPoints(r.spool);
    expect(rest).toEqual([]);
    expect(point!.tags).toEqual({ role: 'web', version: '1.0', measurement: 'app.access' });
    expect([point!.sec, point!.nsec]).toEqual([T0 / 1000, 0]);

    const all = Object.values(byInstance).flat();
    const f = point!.record;
    expect(f.events).toBe(5000n);
    expect(f.reqtime_count).toBe(5000n);
    expect(f.reqtime_max).toBe(Math.max(...all));
    expect(f.reqtime_sum as number).toBeCloseTo(
      all.reduce((a, b) => a + b, 0),
      6,
    );
    expect(f.reqtime_mean as number).toBeCloseTo(all.reduce((a, b) => a + b, 0) / 5000, 9);
    for (const [q, name] of [
      [0.5, 'reqtime_p50'],
      [0.95, 'reqtime_p95'],
      [0.99, 'reqtime_p99'],
    ] as const)
      withinBound(f[name], exactQuantile(all, q));

    const averagedP95 =
      Object.values(byInstance).reduce((s, vs) => s + exactQuantile(vs, 0.95), 0) / 3;
    const exactP95 = exactQuantile(all, 0.95);
    // The averaged answer is far outside the bound: fleetline must not be computing it.
    expect(Math.abs(averagedP95 - exactP95) / exactP95).toBeGreaterThan(0.3);
    expect(Math.abs((f.reqtime_p95 as number) - averagedP95)).toBeGreaterThan(
      10 * RELATIVE_ACCURACY * exactP95,
    );
    expect(await metricValue(r.deps, 'fleetline_rollup_entries_aggregated_total')).toBe(5000);
    expect(await metricValue(r.deps, 'fleetline_rollup_intervals_emitted_total')).toBe(1);
  });

  it('counts events by level (level/severity/log_level, lower-cased) and by status class (status/code)', async () => {
    const r = await rig();
    const records: RecordMap[] = [
      { level: 'ERROR', status: 500 },
      { level: 'error', status: '503' },
      { severity: 'Warn', code: 404 },
      { log_level: 'info', status: 200 },
      { level: 'info', status: '201', code: 500 },
      { level: 'info', status: 'ok', code: '302' },
      { level: 'this is not a level!', status: 99 },
      { msg: 'no level, no status', status: 200.5 },
    ];
    const entries = records.map((rec, i) => entry(T0 + i * 100, rec));
    await r.spool.deliver(r.engine, spooled(entries, 3));
    r.clock.set(T0 + 12_000);
    r.engine.tick();
    const [point] = rollupPoints(r.spool);
    expect(point!.record).toEqual({
      events: 8n,
      level_error: 2n,
      level_warn: 1n,
      level_info: 3n,
      level_other: 1n,
      status_2xx: 2n,
      status_3xx: 1n,
      status_4xx: 1n,
      status_5xx: 2n,
    });
  });

  it('a record whose level is "constructor" is counted and does not stop emission', async () => {
    const r = await rig();
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + 1, { level: 'constructor' }), entry(T0 + 2, { level: 'info' })], 1),
    );
    r.clock.set(T0 + 12_000);
    expect(r.engine.tick()).toBe(1);
    expect(await metricValue(r.deps, 'fleetline_rollup_emit_failures_total')).toBe(0);
    expect(rollupPoints(r.spool).map((p) => p.record)).toEqual([
      { events: 2n, level_constructor: 1n, level_info: 1n },
    ]);
  });

  it('keeps one series per (role, version, measurement) and labels unplaced entries unknown', async () => {
    const r = await rig();
    await r.spool.deliver(
      r.engine,
      spooled(
        [
          entry(T0 + 1, { reqtime: 1 }, { role: 'web', version: '1.0' }),
          entry(T0 + 2, { reqtime: 2 }, { role: 'web', version: '1.1' }),
          entry(T0 + 3, { reqtime: 3 }, { role: 'web', version: '1.1' }, 'app.error'),
          entry(T0 + 4, { reqtime: 4 }, {}),
          entry(T0 + 5, { events: 1 }, { role: 'web', version: '1.0' }, 'fleet_rollup'),
          entry(T0 + 6, { text: 'x' }, { role: 'web', version: '1.0' }, 'fleet_events'),
          entry(T0 + 7, { members: 3 }, { role: 'web', version: '1.0' }, 'fleet_members'),
        ],
        10,
      ),
    );
    r.clock.set(T0 + 12_000);
    r.engine.tick();
    const series = rollupPoints(r.spool).map((p) => [p.tags, p.record.events]);
    expect(series).toEqual([
      [{ role: 'unknown', version: 'unknown', measurement: 'app.access' }, 1n],
      [{ role: 'web', version: '1.0', measurement: 'app.access' }, 1n],
      [{ role: 'web', version: '1.1', measurement: 'app.access' }, 1n],
      [{ role: 'web', version: '1.1', measurement: 'app.error' }, 1n],
    ]);
  });

  it('emits an interval only after it ended plus grace, and each interval once', async () => {
    const r = await rig();
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1000, { reqtime: 1 })], 1));
    r.clock.set(T0 + 11_999);
    expect(r.engine.tick()).toBe(0);
    expect(rollupPoints(r.spool)).toHaveLength(0);
    r.clock.set(T0 + 12_000);
    expect(r.engine.tick()).toBe(1);
    r.clock.set(T0 + 40_000);
    expect(r.engine.tick()).toBe(0);
    expect(rollupPoints(r.spool)).toHaveLength(1);
  });

  it('re-emits a closed interval once per delivery when late entries change it', async () => {
    const r = await rig();
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1000, { level: 'info', reqtime: 10 })], 1));
    r.clock.set(T0 + 13_000);
    r.engine.tick();
    expect(rollupPoints(r.spool).map((p) => p.record.events)).toEqual([1n]);

    // Three late entries for the emitted interval in one delivery, one for the open interval.
    const late = [
      entry(T0 + 2000, { level: 'error', reqtime: 1000 }),
      entry(T0 + 3000, { level: 'error', reqtime: 20 }),
      entry(T0 + 4000, { level: 'info', reqtime: 30 }),
      entry(T0 + 12_500, { level: 'info', reqtime: 5 }),
    ];
    await r.spool.deliver(r.engine, spooled(late, 2, 2));
    const points = rollupPoints(r.spool);
    expect(points).toHaveLength(2);
    const reemit = points[1]!;
    expect([reemit.sec, reemit.nsec]).toEqual([T0 / 1000, 0]);
    expect(reemit.record).toMatchObject({
      events: 4n,
      level_info: 2n,
      level_error: 2n,
      reqtime_count: 4n,
      reqtime_max: 1000,
      reqtime_sum: 1060,
    });
    expect(await metricValue(r.deps, 'fleetline_rollup_late_reemits_total')).toBe(1);

    r.clock.set(T0 + 23_000);
    r.engine.tick();
    const last = rollupPoints(r.spool).at(-1)!;
    expect([last.sec, last.record.events]).toEqual([T0 / 1000 + 10, 1n]);
  });

  it('writes a members point per known (role, version) and interval, including roles without events', async () => {
    const r = await rig({
      roleVersions: [
        { role: 'web', version: '1.0' },
        { role: 'api', version: '2.0' },
      ],
      membersOf: (role) => ({ web: 3, api: 2 })[role] ?? 0,
    });
    await r.spool.deliver(
      r.engine,
      spooled(
        [
          entry(T0 + 1, { reqtime: 1 }),
          entry(T0 + 2, { reqtime: 1 }, { role: 'batch', version: '7' }),
        ],
        5,
      ),
    );
    r.clock.set(T0 + 22_000);
    r.engine.tick();
    const members = r.spool
      .appended()
      .filter((e) => e.tag === 'fleet_members')
      .map((e) => [e.sec - T0 / 1000, e.tags, e.record.members]);
    expect(members).toEqual([
      [0, { role: 'api', version: '2.0' }, 2n],
      [0, { role: 'batch', version: '7' }, 0n],
      [0, { role: 'web', version: '1.0' }, 3n],
      [10, { role: 'api', version: '2.0' }, 2n],
      [10, { role: 'web', version: '1.0' }, 3n],
    ]);
    expect(r.members).toContainEqual(['api', '2.0', T0, T0 + 10_000]);
    expect(r.members).toContainEqual(['web', '1.0', T0 + 10_000, T0 + 20_000]);
  });

  it('after a gap, backfills members only at interval starts, even when lateness is not a multiple of the interval', async () => {
    const r = await rig({
      config: { interval: '1m', lateness: '90s' },
      roleVersions: [{ role: 'web', version: '1.0' }],
      membersOf: () => 2,
    });
    r.clock.set(T0 + 62_000);
    r.engine.tick();
    // The service was away for ten minutes.
    r.clock.set(T0 + 602_000);
    r.engine.tick();
    const starts = r.spool
      .appended()
      .filter((e) => e.tag === 'fleet_members')
      .map((e) => e.sec * 1000 + e.nsec / 1e6 - T0);
    expect(starts).toEqual([0, 540_000]);
    expect(r.members.map(([, , from, to]) => [from - T0, to - T0])).toEqual([
      [0, 60_000],
      [540_000, 600_000],
    ]);
  });

  it('members points stay on interval starts after rollup.interval changed across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const clock = fakeClock(T0 + 52_000);
    const first = await rig({ dir, clock, config: { interval: '10s' } });
    first.engine.tick(); // closed through T0 + 50 s
    await first.engine.stop();
    await first.store.stop();
    clock.set(T0 + 122_000);
    const r = await rig({
      dir,
      clock,
      config: { interval: '1m' },
      roleVersions: [{ role: 'web', version: '1.0' }],
    });
    r.engine.tick();
    expect(r.members.map(([, , from, to]) => [from - T0, to - T0])).toEqual([[60_000, 120_000]]);
  });

  it('keeps no far-future intervals in its memory cache (a skewed or hostile clock)', async () => {
    const r = await rig();
    const cached = () => metricValue(r.deps, 'fleetline_rollup_cached_intervals');
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    expect(await cached()).toBe(1);
    // One agent a day ahead: every entry opens an interval nothing would evict for a day.
    const ahead = Array.from({ length: 300 }, (_, i) =>
      entry(T0 + 86_400_000 + i * 10_000, { reqtime: i }),
    );
    for (const b of spooled(ahead, 50, 2)) await r.spool.deliver(r.engine, [b]);
    expect(await cached()).toBe(1);
    expect(r.engine.query({ since: T0 + 1e7, until: T0 + 1e9 })).toHaveLength(300);
    // Closed intervals leave the cache as the clock moves on.
    r.clock.set(T0 + 10 * 60_000);
    r.engine.tick();
    expect(await cached()).toBe(0);
  });

  it('does not roll up entries more than retention ahead of the clock (rows nothing would prune)', async () => {
    const r = await rig({ config: { retention: '1d' } });
    const day = 86_400_000;
    // Hostile or garbage timestamps: every entry its own interval, years ahead.
    const ahead = Array.from({ length: 200 }, (_, i) =>
      entry(T0 + day + 60_000 + i * 7 * day, { reqtime: i }),
    );
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + day - 10_000, { reqtime: 1 }), ...ahead], 1000),
    );
    expect(r.engine.query({ since: 0, until: Number.MAX_SAFE_INTEGER })).toHaveLength(1);
    expect(await metricValue(r.deps, 'fleetline_rollup_entries_future_total')).toBe(200);
    expect(await metricValue(r.deps, 'fleetline_rollup_entries_aggregated_total')).toBe(1);
  });

  it('a throw inside the spool transaction leaves the state and the cache unchanged', async () => {
    const r = await rig();
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    await expect(
      r.spool.deliver(r.engine, spooled([entry(T0 + 2, { reqtime: 2 }), entry(T0 + 3, {})], 2, 2), {
        throwAfter: true,
      }),
    ).rejects.toThrow(/simulated failure/);
    expect(r.engine.query({ since: T0, until: T0 + 10_000 })[0]!.fields.events).toBe(1);
    await r.spool.deliver(r.engine, spooled([entry(T0 + 4, { reqtime: 4 })], 1, 3));
    const [row] = r.engine.query({ since: T0, until: T0 + 10_000 });
    expect(row!.fields).toMatchObject({
      events: 2,
      reqtime_count: 2,
      reqtime_sum: 5,
      reqtime_max: 4,
    });
    expect(r.spool.progress()).toBe(3);
  });

  it('a late re-emit that rolls back appends nothing and leaves the interval emitted as before', async () => {
    const r = await rig();
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    r.clock.set(T0 + 12_000);
    r.engine.tick();
    await expect(
      r.spool.deliver(r.engine, spooled([entry(T0 + 2, { reqtime: 2 })], 1, 2), {
        throwAfter: true,
      }),
    ).rejects.toThrow();
    expect(rollupPoints(r.spool)).toHaveLength(1);
    expect(r.engine.query({ since: T0, until: T0 + 1 })[0]!.fields.events).toBe(1);
  });

  it('does not roll up entries older than retention, counts them, and prunes old intervals', async () => {
    const r = await rig({ config: { retention: '1h' } });
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    r.clock.set(T0 + 3_600_000 + 20_000);
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + 2, { reqtime: 2 }), entry(T0 + 2, {})], 2, 2),
    );
    expect(await metricValue(r.deps, 'fleetline_rollup_entries_expired_total')).toBe(2);
    expect(r.engine.query({ since: 0, until: T0 + 1e9 })).toHaveLength(1);
    r.engine.tick();
    expect(r.engine.query({ since: 0, until: T0 + 1e9 })).toHaveLength(0);
    expect(await metricValue(r.deps, 'fleetline_rollup_intervals_pruned_total')).toBe(1);
  });

  it('after pruning, an entry for a pruned interval is not rolled up even if the clock steps back', async () => {
    const r = await rig({ config: { retention: '1h' } });
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + 1, { reqtime: 1 }), entry(T0 + 2, { reqtime: 2 })], 2),
    );
    r.clock.set(T0 + 3_600_000 + 20_000);
    r.engine.tick(); // emits the interval (2 events), then prunes it
    expect(rollupPoints(r.spool).map((p) => p.record.events)).toEqual([2n]);
    expect(r.engine.query({ since: 0, until: T0 + 1e9 })).toHaveLength(0);
    // NTP steps the clock back a minute; a very late entry for the pruned interval arrives.
    r.clock.set(T0 + 3_600_000 - 40_000);
    await r.spool.deliver(r.engine, spooled([entry(T0 + 3, { reqtime: 3 })], 1, 2));
    // Re-emitting the rebuilt 1-event interval would overwrite the full point in InfluxDB.
    expect(rollupPoints(r.spool).map((p) => p.record.events)).toEqual([2n]);
    expect(r.engine.query({ since: 0, until: T0 + 1e9 })).toHaveLength(0);
    expect(await metricValue(r.deps, 'fleetline_rollup_entries_expired_total')).toBe(1);
  });

  it('after a clock glitch far ahead and back, keeps rolling up intervals it never pruned', async () => {
    const r = await rig({ config: { retention: '1h' } });
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    r.clock.set(T0 + 30 * 86_400_000); // the clock jumps a month ahead: emit, prune everything
    r.engine.tick();
    expect(r.engine.query({ since: 0, until: T0 + 1e12 })).toHaveLength(0);
    r.clock.set(T0 + 25_000); // ...and is corrected
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + 2, { reqtime: 2 }), entry(T0 + 15_000, { reqtime: 3 })], 2, 2),
    );
    // The interval the glitch pruned stays refused; the next one never had a row and counts.
    expect(r.engine.query({ since: 0, until: T0 + 1e12 }).map((x) => x.startMs)).toEqual([
      T0 + 10_000,
    ]);
    expect(await metricValue(r.deps, 'fleetline_rollup_entries_expired_total')).toBe(1);
  });

  it('after a clock glitch far ahead and back, closes intervals and writes members again as the clock runs', async () => {
    const r = await rig({
      config: { retention: '1h' },
      roleVersions: [{ role: 'web', version: '1.0' }],
      membersOf: () => 3,
    });
    r.clock.set(T0 + 30 * 86_400_000);
    r.engine.tick(); // closed through a month ahead
    r.clock.set(T0 + 21_000);
    r.engine.tick();
    const before = r.spool.appended().length;
    const open = [entry(T0 + 21_000, { reqtime: 1 }), entry(T0 + 22_000, { reqtime: 2 })];
    for (const b of spooled(open, 1, 2)) await r.spool.deliver(r.engine, [b]);
    // An open interval: nothing is emitted per delivery...
    expect(r.spool.appended()).toHaveLength(before);
    // ...and it closes, with its members point, once it ended.
    r.clock.set(T0 + 32_000);
    expect(r.engine.tick()).toBe(1);
    const fresh = r.spool.appended().slice(before);
    expect(
      fresh.map((e) => [e.tag, e.sec * 1000 - T0, e.record.events ?? e.record.members]),
    ).toEqual([
      ['fleet_rollup', 20_000, 2n],
      ['fleet_members', 10_000, 3n],
      ['fleet_members', 20_000, 3n],
    ]);
  });

  it('after a small step back across a close, entries for the reopened interval are emitted', async () => {
    const r = await rig();
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    r.clock.set(T0 + 12_000);
    r.engine.tick(); // interval T0 emitted with 1 event
    r.clock.set(T0 + 5_000); // NTP steps back 7 s: interval T0 is open again
    r.engine.tick();
    await r.spool.deliver(r.engine, spooled([entry(T0 + 2, { reqtime: 2 })], 1, 2));
    r.clock.set(T0 + 12_000);
    r.engine.tick();
    expect(rollupPoints(r.spool).map((p) => p.record.events)).toEqual([1n, 2n]);
  });

  it('after a clock glitch far ahead and back, an agent that was ahead does not make it refuse the present', async () => {
    const r = await rig({ config: { retention: '1h' } });
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + 1, { reqtime: 1 }), entry(T0 + 1_800_000, { reqtime: 9 })], 2),
    );
    r.clock.set(T0 + 30 * 86_400_000);
    r.engine.tick(); // emits and prunes both, the agent's half-hour-ahead interval too
    r.clock.set(T0 + 25_000);
    await r.spool.deliver(
      r.engine,
      spooled([entry(T0 + 2, { reqtime: 2 }), entry(T0 + 15_000, { reqtime: 3 })], 2, 2),
    );
    expect(r.engine.query({ since: 0, until: T0 + 1e12 }).map((x) => x.startMs)).toEqual([
      T0 + 10_000,
    ]);
  });

  it('remembers how far it pruned across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const clock = fakeClock(T0 + 5000);
    const first = await rig({ dir, clock, config: { retention: '1h' } });
    await first.spool.deliver(
      first.engine,
      spooled([entry(T0 + 1, { reqtime: 1 }), entry(T0 + 2, { reqtime: 2 })], 2),
    );
    clock.set(T0 + 3_600_000 + 20_000);
    first.engine.tick();
    await first.engine.stop();
    await first.store.stop();
    clock.set(T0 + 3_600_000 - 40_000);
    const r = await rig({ dir, clock, config: { retention: '1h' } });
    await r.spool.deliver(r.engine, spooled([entry(T0 + 3, { reqtime: 3 })], 1, 2));
    expect(rollupPoints(r.spool).map((p) => p.record.events)).toEqual([2n]);
    expect(r.engine.query({ since: 0, until: T0 + 1e9 })).toHaveLength(0);
  });

  it('query filters by role, version and [since, until) and returns fields as numbers', async () => {
    const r = await rig();
    await r.spool.deliver(
      r.engine,
      spooled(
        [
          entry(T0 + 1, { reqtime: 7 }, { role: 'web', version: '1.0' }),
          entry(T0 + 10_001, { reqtime: 9 }, { role: 'web', version: '1.0' }),
          entry(T0 + 2, { reqtime: 3 }, { role: 'api', version: '1.0' }),
        ],
        5,
      ),
    );
    expect(
      r.engine.query({ role: 'web', since: T0, until: T0 + 20_000 }).map((x) => x.startMs),
    ).toEqual([T0, T0 + 10_000]);
    expect(r.engine.query({ role: 'web', version: '2.0', since: T0, until: T0 + 20_000 })).toEqual(
      [],
    );
    const [api] = r.engine.query({ role: 'api', since: T0, until: T0 + 10_000 });
    expect(api).toMatchObject({
      role: 'api',
      version: '1.0',
      measurement: 'app.access',
      emitted: false,
    });
    expect(api!.fields).toMatchObject({ events: 1, reqtime_p50: 3, reqtime_max: 3 });
  });

  it('a failing members lookup rolls the emission back, counts it, and the next tick emits the interval', async () => {
    let failures = 1;
    const r = await rig({
      roleVersions: [{ role: 'web', version: '1.0' }],
      membersOf: () => {
        if (failures-- > 0) throw new Error('registry unavailable');
        return 4;
      },
    });
    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    r.clock.set(T0 + 12_000);
    expect(r.engine.tick()).toBe(0);
    expect(r.spool.appended()).toEqual([]);
    expect(await metricValue(r.deps, 'fleetline_rollup_emit_failures_total')).toBe(1);
    expect(r.engine.query({ since: T0, until: T0 + 1 })[0]!.emitted).toBe(false);
    expect(r.engine.tick()).toBe(1);
    expect(r.spool.appended().map((e) => [e.tag, e.record.events ?? e.record.members])).toEqual([
      ['fleet_rollup', 1n],
      ['fleet_members', 4n],
    ]);
  });

  it('refuses a retention too short to keep an interval until it is emitted', () => {
    // Pruning deletes intervals starting before now − retention; with retention ≤ interval +
    // grace it can delete an interval in the moment between its end and its emission.
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const store = createStore(dir);
    const make = (config: Partial<RollupConfig>) => () =>
      createRollupEngine({ ...ROLLUP_DEFAULTS, ...config }, testDeps(), {
        store,
        spool: { appendInTransaction: () => undefined },
        members: () => 0,
        roleVersions: () => [],
      });
    expect(make({ interval: '1h', retention: '1h' })).toThrow(/rollup\.retention/);
    expect(make({ interval: '10s', grace: '2s', lateness: '2m', retention: '2m' })).toThrow(
      /rollup\.retention/,
    );
  });

  it('stop() is safe before start(), idempotent, and emits what is due', async () => {
    const r = await rig();
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-'));
    const store = createStore(dir);
    const idle = createRollupEngine(ROLLUP_DEFAULTS, testDeps(), {
      store,
      spool: { appendInTransaction: () => undefined },
      members: () => 0,
      roleVersions: () => [],
    });
    await idle.stop();
    await idle.stop();
    rmSync(dir, { recursive: true, force: true });

    await r.spool.deliver(r.engine, spooled([entry(T0 + 1, { reqtime: 1 })], 1));
    r.clock.set(T0 + 12_000);
    await Promise.all([r.engine.stop(), r.engine.stop()]);
    expect(rollupPoints(r.spool)).toHaveLength(1);
  });
});
