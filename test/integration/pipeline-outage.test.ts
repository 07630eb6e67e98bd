import { describe, expect, it } from 'vitest';
import { startInfluxd } from '../helpers/influxd.ts';
import { freshDatabase, influxRows } from '../helpers/influxdb.ts';
import { createLoadClient } from '../helpers/load-client.ts';
import { eventually, startService } from '../helpers/service.ts';

/** The issue asks for a minute-long outage; the spool must carry the load through it. */
const OUTAGE_MS = 60_000;

describe('pipeline › InfluxDB outage', () => {
  it('keeps acknowledging ingest while InfluxDB is down for a minute, then delivers everything', async () => {
    const influx = await startInfluxd();
    const db = await freshDatabase('outage', influx.url);
    const service = await startService({
      influxdb: { url: influx.url, database: db, max_retry_delay: '2s' },
      registry: { records: {} },
    });
    const client = createLoadClient({
      port: service.forwardPort,
      tag: 'app.access',
      perTick: 20,
      tickMs: 50,
      instances: [{ instanceId: 'i-0d00000000000001', role: 'web', version: '1.0.0' }],
    });
    try {
      client.start();
      await eventually(() => client.acked.size > 500, 20_000, 'load before the outage');
      await influx.stop();
      const ackedAtOutage = client.acked.size;

      // During the outage: ingest is still acknowledged (the spool takes it), readiness says why
      // InfluxDB is not ready, and the spool grows.
      const samples: number[] = [];
      const started = Date.now();
      while (Date.now() - started < OUTAGE_MS) {
        await new Promise((r) => setTimeout(r, 10_000));
        samples.push(client.acked.size);
      }
      expect(samples.every((n, i) => n > (i === 0 ? ackedAtOutage : samples[i - 1]!))).toBe(true);
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toMatch(/influxdb/);
      expect(service.spool.stats().entries).toBeGreaterThan(0);
      expect(client.failed.size).toBe(0);

      await influx.restart();
      await client.stop();
      expect(client.failed.size).toBe(0);

      const rows = await eventually(
        async () => {
          const r = await influxRows('SELECT "seq" FROM "app.access"', db, influx.url);
          return r.length >= client.acked.size ? r : undefined;
        },
        60_000,
        'the spool to drain into InfluxDB',
      );
      const seqs = new Set(rows.map((r) => Number(r.seq)));
      expect(rows.length).toBe(seqs.size);
      expect([...client.acked].filter((s) => !seqs.has(s))).toEqual([]);
      await eventually(
        () => (service.spool.stats().lag.influxdb ?? 1) === 0,
        30_000,
        'writer lag 0',
      );
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    } finally {
      await service.stop();
      await influx.destroy();
    }
  }, 180_000);
});
