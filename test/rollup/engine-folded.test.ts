/** The rollup engine counts the sketch buckets folded at the 2,048-bucket bound, once each. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRollupEngine } from '../../src/rollup/engine.ts';
import { MAX_BUCKETS } from '../../src/rollup/quantile-sketch.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { entry, ROLLUP_DEFAULTS, spooled, T0 } from './fixtures.ts';
import { spoolDouble } from './spool-double.ts';

const FOLDED = 'fleetline_rollup_sketch_buckets_folded_total';

describe('rollup engine › sketch bound', () => {
  it('counts each folded bucket once, across deliveries into one interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-folded-'));
    const store = createStore(dir);
    await store.start();
    const deps = testDeps({ clock: fakeClock(T0 + 5000) });
    const spool = spoolDouble(store);
    const engine = createRollupEngine(ROLLUP_DEFAULTS, deps, {
      store,
      spool,
      roleVersions: () => [],
      members: () => 0,
    });
    await engine.start();
    try {
      // Values one bucket apart (1.03 > γ): MAX_BUCKETS + 100 buckets over two deliveries.
      const values = Array.from({ length: MAX_BUCKETS + 100 }, (_, k) => 1.03 ** k);
      const entries = values.map((v, k) => entry(T0 + (k % 4000), { reqtime: v }));
      await spool.deliver(engine, spooled(entries.slice(0, 1500), 1500, 1));
      expect(await metricValue(deps, FOLDED)).toBe(0);
      await spool.deliver(engine, spooled(entries.slice(1500), 1500, 2));
      expect(await metricValue(deps, FOLDED)).toBe(100);
      // A value in a bucket still kept folds nothing more; one below them is folded.
      await spool.deliver(engine, spooled([entry(T0 + 1, { reqtime: 1.03 ** 2000 })], 1, 3));
      expect(await metricValue(deps, FOLDED)).toBe(100);
      await spool.deliver(engine, spooled([entry(T0 + 2, { reqtime: 5 })], 1, 4));
      expect(await metricValue(deps, FOLDED)).toBe(101);
      const [row] = engine.query({ since: T0, until: T0 + 10_000 });
      expect(row!.fields.reqtime_count).toBe(values.length + 2);
    } finally {
      await engine.stop();
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
