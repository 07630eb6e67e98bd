import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, influxRows, influxUrl } from '../helpers/influxdb.ts';
import { createLoadClient } from '../helpers/load-client.ts';
import { eventually, type RunningService, startService } from '../helpers/service.ts';

describe('pipeline › Forward → fleetline → InfluxDB', () => {
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('delivers every acknowledged record with role/version/slot tags and its fields, counted exactly', async () => {
    const db = await freshDatabase('e2e');
    service = await startService({
      influxdb: { url: influxUrl(), database: db },
      registry: { records: {} },
      rollup: { interval: '1s' },
    });
    const instances = [
      { instanceId: 'i-0aaa000000000001', role: 'web', version: '1.4.2' },
      { instanceId: 'i-0aaa000000000002', role: 'web', version: '1.4.2' },
      { instanceId: 'i-0bbb000000000001', role: 'api', version: '2.0.0' },
    ];
    const client = createLoadClient({ port: service.forwardPort, instances, tag: 'app.access' });
    client.send(900);
    await client.settle();
    await client.stop();
    expect(client.failed.size).toBe(0);
    expect(client.acked.size).toBe(900);

    const rows = await eventually(
      async () => {
        const r = await influxRows('SELECT * FROM "app.access"', db);
        return r.length >= 900 ? r : undefined;
      },
      20_000,
      '900 points in InfluxDB',
    );
    expect(rows).toHaveLength(900);
    const seqs = new Set(rows.map((r) => r.seq));
    expect(seqs.size).toBe(900);
    // Stable labels, never an instance_id tag.
    const bySlot = new Map<string, Set<unknown>>();
    for (const r of rows) {
      const key = `${r.role}/${r.slot}`;
      if (!bySlot.has(key)) bySlot.set(key, new Set());
      bySlot.get(key)!.add(r.instance_id);
    }
    expect([...bySlot.keys()].sort()).toEqual(['api/0', 'web/0', 'web/1']);
    for (const ids of bySlot.values()) expect(ids.size).toBe(1);
    const tagKeys = await influxRows('SHOW TAG KEYS FROM "app.access"', db);
    expect(tagKeys.map((t) => t.tagKey)).not.toContain('instance_id');
    expect(tagKeys.map((t) => t.tagKey)).toEqual(
      expect.arrayContaining(['role', 'version', 'slot', 'level', 'status']),
    );
    const sample = rows.find((r) => r.seq === 8);
    expect(sample).toMatchObject({
      message: 'record 8',
      role: 'api',
      version: '2.0.0',
      level: 'info',
      status: '200',
    });

    // Role rollups reach InfluxDB too, and count every record once.
    const rollups = await eventually(
      async () => {
        const r = await influxRows(
          `SELECT sum("events") AS n FROM "fleet_rollup" WHERE "measurement" = 'app.access' GROUP BY "role"`,
          db,
        );
        const total = r.reduce((s, x) => s + Number(x.n), 0);
        return total >= 900 ? r : undefined;
      },
      20_000,
      'rollups for 900 events',
    );
    expect(Object.fromEntries(rollups.map((r) => [r.role, r.n]))).toEqual({ web: 600, api: 300 });

    const members = await influxRows(
      `SELECT max("members") AS m FROM "fleet_members" GROUP BY "role"`,
      db,
    );
    expect(Object.fromEntries(members.map((r) => [r.role, r.m]))).toEqual({ web: 2, api: 1 });

    // The launches became lifecycle events in fleet_events.
    const launches = await influxRows(
      `SELECT count("text") AS n FROM "fleet_events" WHERE "kind" = 'launch'`,
      db,
    );
    expect(launches[0]?.n).toBe(3);
  });
});
