import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createService } from '../../src/cli/service.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startAll, stopAll } from '../../src/core/lifecycle.ts';
import { testDeps } from '../helpers/deps.ts';
import { startInfluxd } from '../helpers/influxd.ts';

describe('readiness', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('/readyz is 503 while InfluxDB is down and 200 once it answers', async () => {
    const influx = await startInfluxd();
    await influx.stop();
    const dataDir = mkdtempSync(join(tmpdir(), 'fleetline-ready-'));
    dirs.push(dataDir);
    const { config } = parseConfig({
      data_dir: dataDir,
      forward: { port: 0 },
      http: { port: 0 },
      influxdb: { url: influx.url },
    });
    const service = createService(config, testDeps());
    await startAll(service.components);
    try {
      const down = await fetch(`${service.http.url()}/readyz`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as {
        ready: boolean;
        checks: Record<string, { ok: boolean; reason?: string }>;
      };
      expect(body.ready).toBe(false);
      expect(body.checks.store?.ok).toBe(true);
      expect(body.checks.influxdb?.ok).toBe(false);
      expect(body.checks.influxdb?.reason).toMatch(/not answering/);

      await influx.restart();
      const up = await fetch(`${service.http.url()}/readyz`);
      expect(up.status).toBe(200);
      expect(((await up.json()) as { ready: boolean }).ready).toBe(true);
    } finally {
      await stopAll(service.components);
      await influx.destroy();
    }
  });

  it('/healthz is 200 with no InfluxDB configured', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fleetline-ready-'));
    dirs.push(dataDir);
    const { config } = parseConfig({ data_dir: dataDir, forward: { port: 0 }, http: { port: 0 } });
    const service = createService(config, testDeps());
    await startAll(service.components);
    try {
      expect((await fetch(`${service.http.url()}/healthz`)).status).toBe(200);
      expect((await fetch(`${service.http.url()}/readyz`)).status).toBe(200);
    } finally {
      await stopAll(service.components);
    }
  });
});
