/**
 * The generated dashboards and alert rules against data that went through the real pipeline:
 * a simulated role (real fluent-logger agents over Forward, EventBridge-shaped lifecycle events)
 * with one rolling release and one fault replacement, through fleetline into the real InfluxDB.
 * Every panel target, variable, annotation and alert query runs after Grafana's macro
 * substitution; role series must have no gap at the swaps; the annotation query must return
 * the replacements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Artefacts, generateArtefacts } from '../../src/generate/artefacts.ts';
import { roleDashboardUid } from '../../src/generate/dashboard-uid.ts';
import { parseSimulateArgs } from '../../src/simulate/cli.ts';
import { createSimulator } from '../../src/simulate/simulator.ts';
import { alertQueries, dashboardQueries } from '../generate/generated-queries.ts';
import { testDeps } from '../helpers/deps.ts';
import { grafanaQuery, type MacroContext, type VariableState } from '../helpers/grafana-macros.ts';
import {
  freshDatabase,
  type InfluxSeries,
  influxql,
  influxRows,
  influxUrl,
} from '../helpers/influxdb.ts';
import { eventually, type RunningService, startService } from '../helpers/service.ts';

const GRAFANA = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};
const INTERVAL_MS = 2000;

let service: RunningService;
let db: string;
let artefacts: Artefacts;
let from = 0;
let to = 0;
let replaceTimes: number[] = [];

const run = async (query: string, ctx: MacroContext): Promise<InfluxSeries[]> =>
  (await influxql(grafanaQuery(query, ctx), { db }))[0] ?? [];
const all = (options: string[]): VariableState => ({
  selected: 'All',
  options,
  multi: true,
  includeAll: true,
});
const only = (selected: string[], options: string[]): VariableState => ({
  selected,
  options,
  multi: true,
  includeAll: true,
});

beforeAll(async () => {
  db = await freshDatabase('pipeline_dash');
  service = await startService({
    influxdb: { url: influxUrl(), database: db },
    registry: { records: {} },
    rollup: { interval: '1s', grace: '500ms' },
  });
  // 16 simulated minutes at 60×: a release at 4m (one instance a minute), a fault at 9m.
  const sim = createSimulator(
    parseSimulateArgs([
      `--forward=127.0.0.1:${service.forwardPort}`,
      `--http=${service.url}`,
      '--roles=web:3@1.4.2',
      '--duration=16m',
      '--speed=60',
      '--rate=15',
      '--release-every=4m',
      '--release-duration=3m',
      '--in-service-after=1m',
      '--fault-every=9m',
      '--max-releases=1',
      '--max-faults=1',
      '--seed=7',
    ]),
    testDeps(),
  );
  from = Date.now();
  await sim.start();
  await sim.finished();
  await sim.stop();
  to = Date.now();
  expect(sim.stats()).toMatchObject({ failed: 0, releases: 1, faults: 1 });
  // Everything written, rollups of the last interval emitted.
  await eventually(
    () => (service.spool.stats().lag.influxdb ?? 1) === 0,
    30_000,
    'writer caught up',
  );
  await eventually(
    async () => {
      const r = await influxRows(
        `SELECT count("events") FROM "fleet_rollup" WHERE time > ${to - 1500}ms - 10s`,
        db,
      );
      return r.length > 0;
    },
    15_000,
    'last rollups',
  );
  await eventually(
    () => (service.spool.stats().lag.influxdb ?? 1) === 0,
    30_000,
    'writer caught up',
  );
  artefacts = generateArtefacts(service.model(), { grafana: GRAFANA });
  const events = service.events.query({ role: 'web', kind: 'replace', limit: 100 }).events;
  replaceTimes = events.map((e) => e.time);
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

describe('generated dashboards on pipeline data', () => {
  const ctx = (role: VariableState, version: VariableState): MacroContext => ({
    from,
    to,
    intervalMs: INTERVAL_MS,
    variables: { role, version },
  });

  it('generates the web dashboards from what the registry and the catalog saw', () => {
    expect(replaceTimes).toHaveLength(4);
    const uids = artefacts.dashboards.map((d) => d.uid);
    expect(uids).toContain(roleDashboardUid('web'));
    expect(service.model().measurements.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'app.access',
        'app.log',
        'fleet_rollup',
        'fleet_members',
        'fleet_events',
      ]),
    );
  });

  it('every panel target, variable and annotation query returns rows', async () => {
    const versions = ['1.4.2', '1.4.3'];
    const empty: string[] = [];
    for (const q of dashboardQueries(artefacts)) {
      const series = await run(q.query, ctx(only(['web'], ['web']), all(versions)));
      if (series.reduce((n, s) => n + s.values.length, 0) === 0) empty.push(q.origin);
    }
    expect(empty).toEqual([]);
  });

  it('role-level series have no gap across the replacements', async () => {
    const c = ctx(only(['web'], ['web']), all(['1.4.2', '1.4.3']));
    const roleLevel = dashboardQueries(artefacts).filter(
      (q) =>
        q.kind === 'target' &&
        q.origin.startsWith(roleDashboardUid('web')) &&
        /GROUP BY time\(\$__interval\), "role"/.test(q.query),
    );
    expect(roleLevel.length).toBeGreaterThan(0);
    // Whole buckets only: the first and last may be partial.
    const lo = Math.ceil(from / INTERVAL_MS) * INTERVAL_MS + INTERVAL_MS;
    const hi = Math.floor(to / INTERVAL_MS) * INTERVAL_MS - 2 * INTERVAL_MS;
    for (const q of roleLevel) {
      for (const s of await run(q.query, c)) {
        const present = new Set(
          s.values.filter((r) => r.slice(1).some((v) => v !== null)).map((r) => Number(r[0])),
        );
        const missing: number[] = [];
        for (let t = lo; t <= hi; t += INTERVAL_MS) if (!present.has(t)) missing.push(t);
        expect(missing, `${q.origin} ${JSON.stringify(s.tags)}`).toEqual([]);
      }
    }
    // The swaps happened inside that window.
    for (const t of replaceTimes) expect(t > lo && t < hi).toBe(true);
  });

  it('the annotation query returns every replacement of the role', async () => {
    const q = dashboardQueries(artefacts).find(
      (x) => x.kind === 'annotation' && x.origin.startsWith(roleDashboardUid('web')),
    )!;
    const [series] = await run(q.query, ctx(only(['web'], ['web']), all(['1.4.2', '1.4.3'])));
    const rows = series!.values.map((r) =>
      Object.fromEntries(series!.columns.map((c, i) => [c, r[i]])),
    );
    const replaces = rows.filter((r) => r.kind === 'replace');
    expect(replaces).toHaveLength(4);
    for (const r of replaces) expect(String(r.text)).toMatch(/^i-0[0-9a-f]+ → i-0[0-9a-f]+ \(/);
  });

  it('every alert-rule query returns rows', async () => {
    const queries = alertQueries(artefacts);
    expect(queries.length).toBeGreaterThanOrEqual(3);
    for (const q of queries) {
      const series = await run(q.query, { from, to, intervalMs: INTERVAL_MS, variables: {} });
      expect(series.flatMap((s) => s.values).length, q.origin).toBeGreaterThan(0);
    }
  });
});
