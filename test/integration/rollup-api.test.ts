import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupApiRoutes } from '../../src/api/rollups.ts';
import { defaultConfig } from '../../src/config/load.ts';
import { startAll, stopAll } from '../../src/core/lifecycle.ts';
import { createRollupEngine, MAX_QUERY_BUCKETS } from '../../src/rollup/engine.ts';
import { emptyState, encodeState } from '../../src/rollup/interval-state.ts';
import { MAX_BUCKETS, QuantileSketch } from '../../src/rollup/quantile-sketch.ts';
import { rollupTable } from '../../src/rollup/rollup-table.ts';
import { createHttpServer } from '../../src/server/http.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { entry, ROLLUP_DEFAULTS, spooled, T0 } from '../rollup/fixtures.ts';
import { V1_WIDE_SKETCH_ANSWERS, V1_WIDE_SKETCH_BASE64 } from '../rollup/sketch-v1-fixture.ts';
import { spoolDouble } from '../rollup/spool-double.ts';

/**
 * Per describe block: a store, a rollup engine on it and the API in front, started before the
 * block's own `beforeAll` (which fills the store) and stopped, with the store's files, after it.
 */
function rollupApi(name: string, nowMs: number) {
  const dir = mkdtempSync(join(tmpdir(), `fleetline-rollup-api-${name}-`));
  const deps = testDeps({ clock: fakeClock(nowMs) });
  const store = createStore(dir);
  const engine = createRollupEngine(ROLLUP_DEFAULTS, deps, {
    store,
    spool: { appendInTransaction: () => undefined },
    members: () => 0,
    roleVersions: () => [],
  });
  const http = createHttpServer({ ...defaultConfig().http, port: 0 }, deps, {
    readiness: [],
    routes: [rollupApiRoutes(deps, { engine })],
  });
  beforeAll(() => startAll([store, engine, http]));
  afterAll(async () => {
    await stopAll([store, engine, http]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, engine, http };
}

describe('GET /api/rollups', () => {
  const { store, engine, http } = rollupApi('api', T0 + 25_000);

  beforeAll(async () => {
    const spool = spoolDouble(store);
    await spool.deliver(
      engine,
      spooled(
        [
          entry(T0 + 1, { reqtime: 5, level: 'info' }, { role: 'web', version: '1.0' }),
          entry(T0 + 10_001, { reqtime: 7 }, { role: 'web', version: '1.1' }),
          entry(T0 + 20_001, { status: 500 }, { role: 'api', version: '3' }),
        ],
        10,
      ),
    );
  });

  const get = async (qs: string) => {
    const res = await fetch(`${http.url()}/api/rollups${qs}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('returns the last hour of rollups by default, oldest first, with their fields', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body.truncated).toBe(false);
    expect(body.rollups).toEqual([
      {
        time: new Date(T0).toISOString(),
        start_ms: T0,
        role: 'web',
        version: '1.0',
        measurement: 'app.access',
        emitted: false,
        fields: expect.objectContaining({ events: 1, level_info: 1, reqtime_p95: 5 }),
      },
      expect.objectContaining({ role: 'web', version: '1.1', start_ms: T0 + 10_000 }),
      expect.objectContaining({ role: 'api', fields: { events: 1, status_5xx: 1 } }),
    ]);
  });

  it('filters by role, version and time range (RFC 3339 or epoch ms)', async () => {
    const web = await get('?role=web');
    expect((web.body.rollups as unknown[]).length).toBe(2);
    const v11 = await get('?role=web&version=1.1');
    expect((v11.body.rollups as { version: string }[]).map((r) => r.version)).toEqual(['1.1']);
    const range = await get(`?since=${new Date(T0 + 10_000).toISOString()}&until=${T0 + 20_000}`);
    expect((range.body.rollups as { start_ms: number }[]).map((r) => r.start_ms)).toEqual([
      T0 + 10_000,
    ]);
  });

  it('says when the limit cut the answer short', async () => {
    const { body } = await get('?limit=2');
    expect(body.truncated).toBe(true);
    expect((body.rollups as unknown[]).length).toBe(2);
  });

  it.each([
    ['?since=yesterday', /^since: must be RFC 3339/],
    ['?until=2026-11-27', /^until: must be RFC 3339/],
    [`?since=${T0 + 5}&until=${T0}`, /^since: must be before until/],
    ['?limit=0', /^limit: must be an integer/],
    ['?role=', /^role: must not be empty/],
    ['?role=a&role=b', /^role: give it once/],
    ['?host=i-0abc', /^host: unknown parameter/],
  ])('answers 400 naming the parameter for %s', async (qs, message) => {
    const { status, body } = await get(qs);
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
  });
});

describe('GET /api/rollups › hostile numeric values', () => {
  const { store, engine, http } = rollupApi('hostile', T0 + 25_000);
  // One interval of role web: 2,000 request times in 1…2,000 ms, and 30,000 values from a
  // sender spraying the double range below them (negatives of every size, subnormals, tiny
  // positives), delivered in batches as the spool would.
  const latencies = Array.from({ length: 2_000 }, (_, k) => 1 + ((k * 7919) % 2_000));
  const junk = Array.from({ length: 30_000 }, (_, k) =>
    k % 10 === 0 ? 5e-324 : k % 3 === 0 ? 1.01 ** -(k % 2_000) : -(1.025 ** (k % 28_000)),
  );
  const values = [...junk, ...latencies];

  beforeAll(async () => {
    const spool = spoolDouble(store);
    const entries = values.map((v, k) =>
      entry(T0 + (k % 9_000), { reqtime: v }, { role: 'web', version: '1.0' }),
    );
    await spool.deliver(engine, spooled(entries, 2_000));
  });

  it('keeps the stored interval bounded and answers p95/p99 within 1 % of the exact values', async () => {
    const state = store.db
      .prepare('SELECT state FROM rollup_interval WHERE role = ?')
      .pluck()
      .get('web') as string;
    // Unbounded, the sketch held ~30,000 buckets (~80 KB of base64); at most 2,048 now.
    expect(state.length).toBeLessThan(12_000);

    const res = await fetch(`${http.url()}/api/rollups?role=web`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rollups: { fields: Record<string, number> }[] };
    expect(body.rollups).toHaveLength(1);
    const f = body.rollups[0]!.fields;
    const sorted = [...values].sort((a, b) => a - b);
    const exact = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
    expect(f.reqtime_count).toBe(values.length);
    expect(f.reqtime_max).toBe(2_000);
    for (const [field, q] of [
      ['reqtime_p95', 0.95],
      ['reqtime_p99', 0.99],
    ] as const) {
      const want = exact(q);
      expect(Math.abs(f[field]! - want), `${field}: ${f[field]} vs ${want}`).toBeLessThanOrEqual(
        0.01 * want,
      );
    }
  });
});

describe('GET /api/rollups › decode budget', () => {
  const { store, http } = rollupApi('budget', T0 + 3_600_000);

  beforeAll(async () => {
    // 2,400 intervals of 8 roles whose reqtime was sprayed: each sketch at the 2,048 bound.
    // Written as the engine stores them; delivering 20 M values would only take longer.
    const state = emptyState();
    const sketch = new QuantileSketch();
    for (let k = 0; k < 40_000; k++) sketch.add((k % 2 ? -1 : 1) * 1.021 ** (k % 20_000));
    expect(sketch.buckets()).toBe(MAX_BUCKETS);
    state.numeric.reqtime = sketch;
    state.events = sketch.count;
    const text = encodeState(state);
    const table = rollupTable(store.db);
    store.db.transaction(() => {
      for (let k = 0; k < 2_400; k++)
        table.upsert(`r${k % 8}`, '1', 'app.access', T0 + Math.floor(k / 8) * 10_000, text, k, T0);
    })();
  });

  const get = async (qs: string) => {
    const res = await fetch(`${http.url()}/api/rollups${qs}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('stops at MAX_QUERY_BUCKETS decoded and says the budget cut the answer', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body.truncated).toBe(true);
    expect(body.truncated_by).toBe('decode_budget');
    // The row that crossed the budget is answered: ceil(4,000,000 / 2,048) rows.
    expect((body.rollups as unknown[]).length).toBe(Math.ceil(MAX_QUERY_BUCKETS / MAX_BUCKETS));
  });

  it('answers in full, untruncated, when the rows fit the budget', async () => {
    const { body } = await get('?role=r3');
    expect(body.truncated).toBe(false);
    expect(body.truncated_by).toBeUndefined();
    expect((body.rollups as unknown[]).length).toBe(2_400 / 8);
  });

  it('still says the limit cut it when the limit is hit first', async () => {
    const { body } = await get('?limit=10');
    expect(body.truncated).toBe(true);
    expect(body.truncated_by).toBe('limit');
    expect((body.rollups as unknown[]).length).toBe(10);
  });
});

describe('GET /api/rollups › decode budget on rows stored before the bucket bound', () => {
  const { store, http } = rollupApi('budget-v1', T0 + 3_600_000);
  const rows = 1_000;

  beforeAll(() => {
    // Rows as the code before the bound stored a sprayed field: 5,173 buckets each, folded to
    // 2,048 only once decoded. Decoding costs the stored buckets, so they count against it.
    const text = JSON.stringify({ e: 6005, l: {}, s: {}, n: { reqtime: V1_WIDE_SKETCH_BASE64 } });
    const table = rollupTable(store.db);
    store.db.transaction(() => {
      for (let k = 0; k < rows; k++)
        table.upsert(`r${k % 8}`, '1', 'app.access', T0 + Math.floor(k / 8) * 10_000, text, k, T0);
    })();
  });

  it('counts the buckets a row decodes, not the ones it keeps', async () => {
    const res = await fetch(`${http.url()}/api/rollups`);
    const body = (await res.json()) as Record<string, unknown>;
    const stored = V1_WIDE_SKETCH_ANSWERS.buckets + 1; // the zero bucket too
    expect(body.truncated_by).toBe('decode_budget');
    expect((body.rollups as unknown[]).length).toBe(Math.ceil(MAX_QUERY_BUCKETS / stored));
  });
});
