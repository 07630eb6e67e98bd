import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitForHttp } from '../helpers/cli.ts';
import { freePort } from '../helpers/influxd.ts';
import { freshDatabase, influxql, influxRows, influxUrl } from '../helpers/influxdb.ts';
import { createLoadClient } from '../helpers/load-client.ts';
import { eventually } from '../helpers/service.ts';

describe('pipeline › crash safety', () => {
  it('loses no acknowledged record and double-counts nothing when the service is SIGKILLed under load', async () => {
    const db = await freshDatabase('crash');
    const httpPort = await freePort();
    const forwardPort = await freePort();
    const env = {
      FLEETLINE_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'fleetline-crash-')), 'data'),
      FLEETLINE_HTTP_PORT: String(httpPort),
      FLEETLINE_FORWARD_PORT: String(forwardPort),
      FLEETLINE_INFLUXDB_URL: influxUrl(),
      FLEETLINE_INFLUXDB_DATABASE: db,
      FLEETLINE_REGISTRY_RECORDS_ROLE_KEY: 'role',
      FLEETLINE_ROLLUP_INTERVAL: '1s',
      // A write that times out on a loaded machine is retried within seconds, not after the
      // default backoff of up to a minute that no wait below would outlast.
      FLEETLINE_INFLUXDB_MAX_RETRY_DELAY: '2s',
      FLEETLINE_LOG_LEVEL: 'warn',
    };
    const first = startCli(['serve'], { env });
    await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`);

    const client = createLoadClient({
      port: forwardPort,
      tag: 'app.access',
      perTick: 40,
      tickMs: 20,
      ackTimeoutMs: 3000,
      // fluent-logger throws an uncaught error when the server dies under its write.
      client: 'forward-socket',
      instances: [
        { instanceId: 'i-0c00000000000001', role: 'web', version: '1.0.0' },
        { instanceId: 'i-0c00000000000002', role: 'web', version: '1.0.0' },
      ],
    });
    client.start();
    await eventually(() => client.acked.size > 2000, 20_000, 'acked load before the crash');
    first.child.kill('SIGKILL');
    await first.exited;
    const crashedAt = new Date().toISOString();
    const ackedBeforeCrash = client.acked.size;

    const second = startCli(['serve'], { env });
    try {
      await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`);
      await eventually(
        () => client.acked.size > ackedBeforeCrash + 2000,
        30_000,
        'acked load after the restart',
      );
      await client.stop();
      expect(client.acked.size).toBeGreaterThan(4000);

      // Every acknowledged record is in InfluxDB exactly once.
      const rows = await eventually(
        async () => {
          const r = await influxRows('SELECT "seq" FROM "app.access"', db);
          const have = new Set(r.map((x) => Number(x.seq)));
          return [...client.acked].every((s) => have.has(s)) ? r : undefined;
        },
        40_000,
        'every acknowledged seq in InfluxDB',
      );
      const counts = new Map<number, number>();
      for (const r of rows) counts.set(Number(r.seq), (counts.get(Number(r.seq)) ?? 0) + 1);
      const duplicates = [...counts].filter(([, n]) => n > 1);
      expect(duplicates).toEqual([]);
      const missing = [...client.acked].filter((s) => !counts.has(s));
      expect(missing).toEqual([]);

      // Rollups count each stored record once: no double counting across the crash.
      const stored = rows.length;
      let lastSum = 0;
      const total = await eventually(
        async () => {
          const r = await influxRows(
            `SELECT sum("events") AS n FROM "fleet_rollup" WHERE "measurement" = 'app.access'`,
            db,
          );
          lastSum = Number(r[0]?.n ?? 0);
          return lastSum >= stored ? lastSum : undefined;
        },
        60_000,
        'rollups covering every stored record',
      ).catch(async (err: Error) => {
        throw new Error(
          [
            `${err.message}: rollups count ${lastSum} of ${stored} stored records (crash at ${crashedAt})`,
            ...(await perSecondDifferences(db)),
            'service log (before the crash, then after):',
            first.output().slice(-3000),
            second.output().slice(-3000),
          ].join('\n'),
        );
      });
      expect(total).toBe(stored);
    } finally {
      second.child.kill('SIGTERM');
      const exit = await second.exited;
      expect(exit.code, second.output()).toBe(0);
    }
  }, 120_000);
});

/**
 * Where stored records and their rollups disagree, second by second and per tag set (for a
 * failure message: it tells a lost delivery from mislabelled entries from an overwritten point).
 */
async function perSecondDifferences(db: string): Promise<string[]> {
  const count = async (q: string) => {
    const [series = []] = await influxql(q, { db });
    const out = new Map<number, string[]>();
    const totals = new Map<number, number>();
    for (const s of series) {
      const tags = JSON.stringify(s.tags ?? {});
      for (const [t, n] of s.values as [number, number][]) {
        out.set(t, [...(out.get(t) ?? []), `${tags}=${n}`]);
        totals.set(t, (totals.get(t) ?? 0) + n);
      }
    }
    return { out, totals };
  };
  const stored = await count(
    'SELECT count("seq") FROM "app.access" WHERE time > 0 GROUP BY time(1s), * fill(none)',
  );
  const rolled = await count(
    `SELECT sum("events") FROM "fleet_rollup" WHERE "measurement" = 'app.access' AND time > 0 GROUP BY time(1s), * fill(none)`,
  );
  const times = [...new Set([...stored.totals.keys(), ...rolled.totals.keys()])].sort();
  return times
    .filter((t) => (stored.totals.get(t) ?? 0) !== (rolled.totals.get(t) ?? 0))
    .map(
      (t) =>
        `  ${new Date(t).toISOString()}: stored ${stored.out.get(t)?.join(' ')}; rollups ${rolled.out.get(t)?.join(' ')}`,
    );
}
