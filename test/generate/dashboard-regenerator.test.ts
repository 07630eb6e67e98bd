import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { createDashboardRegenerator } from '../../src/generate/dashboard-regenerator.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { startFakeGrafana } from '../helpers/grafana-api.ts';
import { freePort } from '../helpers/influxd.ts';
import { scenarioModel } from './fleet-scenario.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetline-regen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const roleFiles = async (out: string) =>
  (await readdir(out)).filter((f) => f.startsWith('fl-role-')).length;

describe('dashboard regenerator', () => {
  it('writes on start and rewrites only when roles or the catalog change', async () => {
    const out = join(dir, 'a');
    const { config } = parseConfig({ grafana: { regenerate: true, out_dir: out } });
    const deps = testDeps();
    let model: GenerationModel = scenarioModel;
    const regen = createDashboardRegenerator(config, deps, { model: () => model, pollMs: 20 });
    await regen.start();
    try {
      expect(await roleFiles(out)).toBe(1);
      const runs = () => metricValue(deps, 'fleetline_generate_regenerations_total');
      expect(await runs()).toBe(1);

      // Member counts and instances churn constantly; that must not rewrite anything.
      model = { ...model, roles: [{ ...model.roles[0]!, members: 7 }], instances: [] };
      await regen.check();
      expect(await runs()).toBe(1);

      model = {
        ...model,
        roles: [...model.roles, { role: 'api', versions: ['1'], members: 1, slots: [0] }],
      };
      // Picked up by polling, not by an explicit check.
      await expect.poll(runs, { timeout: 15_000, interval: 20 }).toBe(2);
      expect(await roleFiles(out)).toBe(2);
    } finally {
      await regen.stop();
    }
  });

  it('does nothing unless grafana.regenerate is on, and stop is idempotent', async () => {
    const out = join(dir, 'off');
    const { config } = parseConfig({ grafana: { out_dir: out } });
    const regen = createDashboardRegenerator(config, testDeps(), { model: () => scenarioModel });
    await regen.stop();
    const other = createDashboardRegenerator(config, testDeps(), { model: () => scenarioModel });
    await other.start();
    await other.stop();
    await other.stop();
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('counts and logs a failed write instead of throwing', async () => {
    // A regular file where the output directory's parent should be: every write fails.
    await writeFile(join(dir, 'blocker'), '');
    const { config } = parseConfig({
      grafana: { regenerate: true, out_dir: join(dir, 'blocker', 'out') },
    });
    const deps = testDeps();
    const regen = createDashboardRegenerator(config, deps, { model: () => scenarioModel });
    await regen.start();
    await regen.stop();
    expect(
      await metricValue(deps, 'fleetline_generate_regeneration_errors_total', { stage: 'files' }),
    ).toBe(1);
  });

  it('pushes to Grafana when configured and retries a failed push at every poll', async () => {
    // Grafana is down when the service starts, and comes back on the same address.
    // A port no other test can be handed while this Grafana is down (see freePort).
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const { config } = parseConfig({
      grafana: { regenerate: true, out_dir: join(dir, 'push'), url, token: 'glsa_t' },
    });
    const deps = testDeps();
    const regen = createDashboardRegenerator(config, deps, {
      model: () => scenarioModel,
      pollMs: 30,
    });
    await regen.start();
    const grafana = await (async () => {
      try {
        expect(await roleFiles(join(dir, 'push'))).toBe(1);
        expect(
          await metricValue(deps, 'fleetline_generate_regeneration_errors_total', {
            stage: 'push',
          }),
        ).toBeGreaterThanOrEqual(1);
        return await startFakeGrafana({ token: 'glsa_t', port });
      } catch (err) {
        await regen.stop();
        throw err;
      }
    })();
    try {
      await expect.poll(() => grafana.dashboards.size, { timeout: 15_000, interval: 30 }).toBe(3);
      // Pushed once; later polls with an unchanged model do not push again.
      const posts = () => grafana.requests.filter((r) => r === 'POST /api/dashboards/db').length;
      const n = posts();
      await new Promise((r) => setTimeout(r, 150));
      expect(posts()).toBe(n);
      expect(await metricValue(deps, 'fleetline_generate_regenerations_total')).toBe(1);
    } finally {
      await regen.stop();
      await grafana.stop();
    }
  });
});
