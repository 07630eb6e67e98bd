import { afterEach, describe, expect, it } from 'vitest';
import { metricValue } from '../helpers/deps.ts';
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

  it('keeps the table within dead_letters.max_rows, says what it pruned, and pages with a cursor', async () => {
    const db = await freshDatabase('dlqbound');
    service = await startService({
      influxdb: { url: influxUrl(), database: db, dead_letters: { max_rows: 3 } },
    });
    const write = (body: string) =>
      fetch(`${service!.url}/write?db=any&precision=s`, { method: 'POST', body });
    expect((await write('metrics,host=a load=1.5 1795780000')).status).toBe(204);
    await eventually(
      async () => (await influxRows('SELECT * FROM metrics', db)).length === 1,
      20_000,
      'first point',
    );
    // Five field type conflicts in one request: the two oldest are pruned.
    const conflicts = [1, 2, 3, 4, 5].map(
      (i) => `metrics,host=a load="high ${i}" ${1795780000 + i}`,
    );
    expect((await write(conflicts.join('\n'))).status).toBe(204);

    type Page = {
      influxdb: boolean;
      stored: { rows: number; bytes: number };
      limits: { max_rows: number; max_bytes: number; max_age: string };
      pruned_since_start: { rows: number; bytes: number; age: number };
      next?: string;
      dead_letters: { line: string }[];
    };
    const get = async (query: string) =>
      (await (await fetch(`${service!.url}/api/dead-letters${query}`)).json()) as Page;
    const all = await eventually(
      async () => {
        const page = await get('');
        return page.pruned_since_start.rows === 2 ? page : undefined;
      },
      20_000,
      'five dead letters, two pruned',
    );
    const high = (p: Page) => p.dead_letters.map((d) => d.line.match(/high (\d)/)?.[1]);
    expect(high(all)).toEqual(['5', '4', '3']);
    expect(all.stored.rows).toBe(3);
    expect(all.stored.bytes).toBeGreaterThan(0);
    expect(all.limits).toEqual({ max_rows: 3, max_bytes: 64 * 1024 * 1024, max_age: '7d' });
    expect(all.next).toBeUndefined();
    expect(
      await metricValue(service.deps, 'fleetline_influxdb_dead_letters_pruned_total', {
        reason: 'rows',
      }),
    ).toBe(2);

    const first = await get('?limit=2');
    expect(high(first)).toEqual(['5', '4']);
    expect(first.next).toEqual(expect.any(String));
    const second = await get(`?limit=2&before=${encodeURIComponent(first.next!)}`);
    expect(high(second)).toEqual(['3']);
    expect(second.next).toBeUndefined();
    expect((await fetch(`${service.url}/api/dead-letters?before=yesterday`)).status).toBe(400);
  }, 60_000);
});
