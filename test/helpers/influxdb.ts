/**
 * Test helpers for the shared real InfluxDB: a fresh database per test and InfluxQL queries.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export function influxUrl(): string {
  return inject('influxUrl');
}

/** Runs one or more InfluxQL statements (POST /query) and returns the series of each result. */
export async function influxql(
  q: string,
  opts: { db?: string; url?: string; epoch?: string } = {},
): Promise<InfluxSeries[][]> {
  const url = opts.url ?? influxUrl();
  const params = new URLSearchParams({ q, epoch: opts.epoch ?? 'ms' });
  if (opts.db) params.set('db', opts.db);
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
  const body = (await res.json()) as {
    results?: { series?: InfluxSeries[]; error?: string }[];
    error?: string;
  };
  if (!res.ok || body.error)
    throw new Error(`InfluxQL failed (${res.status}): ${body.error ?? JSON.stringify(body)}`);
  return (body.results ?? []).map((r) => {
    if (r.error) throw new Error(`InfluxQL error: ${r.error}`);
    return r.series ?? [];
  });
}

/** Rows of a single-statement query as objects keyed by column. */
export async function influxRows(
  q: string,
  db: string,
  url?: string,
): Promise<Record<string, unknown>[]> {
  const [series = []] = await influxql(q, { db, url });
  return series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}

/** Creates a database with a unique name and returns the name. */
export async function freshDatabase(prefix = 'test', url?: string): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await influxql(`CREATE DATABASE "${name}"`, { url });
  return name;
}
