import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, influxRows, influxUrl } from '../helpers/influxdb.ts';
import { eventually, type RunningService, startService } from '../helpers/service.ts';

describe('GET /api/dead-letters', () => {
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('shows a line InfluxDB refused for good, with the server reason, while the rest is delivered', async () => {
    const db = await freshDatabase('dlq');
    service = await startService({ influxdb: { url: influxUrl(), database: db } });
    const write = (body: string) =>
      fetch(`${service!.url}/write?db=any&precision=s`, { method: 'POST', body });
    expect((await write('metrics,host=a load=1.5 1795780000')).status).toBe(204);
    await eventually(
      async () => (await influxRows('SELECT * FROM metrics', db)).length === 1,
      20_000,
      'first point',
    );
    // Same field, now a string: a field type conflict InfluxDB refuses permanently.
    expect(
      (await write('metrics,host=a load="high" 1795780001\nmetrics,host=a load=2.5 1795780002'))
        .status,
    ).toBe(204);

    const body = await eventually(
      async () => {
        const res = await fetch(`${service!.url}/api/dead-letters`);
        const json = (await res.json()) as {
          influxdb: boolean;
          dead_letters: { reason: string; line: string; count: number }[];
        };
        return json.dead_letters.length > 0 ? json : undefined;
      },
      20_000,
      'a dead letter',
    );
    expect(body.influxdb).toBe(true);
    expect(body.dead_letters).toHaveLength(1);
    expect(body.dead_letters[0]!.reason).toMatch(/field type conflict/);
    expect(body.dead_letters[0]!.line).toMatch(/load="high"/);
    const rows = await eventually(
      async () => {
        const r = await influxRows('SELECT load FROM metrics', db);
        return r.length === 2 ? r : undefined;
      },
      20_000,
      'the good line delivered',
    );
    expect(rows.map((r) => r.load)).toEqual([1.5, 2.5]);

    expect((await fetch(`${service.url}/api/dead-letters?limit=0`)).status).toBe(400);
  });
});
