/**
 * Every query the generated dashboards and alert rules make Grafana run, executed against the
 * real InfluxDB after Grafana's own substitutions, on data written per docs/INFLUXDB-SCHEMA.md.
 * The data comes from `writeScenario`; swap it for pipeline-written data to re-run the checks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Artefacts, generateArtefacts } from '../../src/generate/artefacts.ts';
import { roleDashboardUid } from '../../src/generate/dashboard-uid.ts';
import { type Scenario, writeScenario } from '../generate/fleet-scenario.ts';
import { alertQueries, dashboardQueries } from '../generate/generated-queries.ts';
import { grafanaQuery, type MacroContext, type VariableState } from '../helpers/grafana-macros.ts';
import { freshDatabase, type InfluxSeries, influxql } from '../helpers/influxdb.ts';

const GRAFANA = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};

let scenario: Scenario;
let artefacts: Artefacts;
let roleOptions: string[];
let versionOptions: string[];

async function run(query: string, ctx: MacroContext): Promise<InfluxSeries[]> {
  const [series = []] = await influxql(grafanaQuery(query, ctx), {
    db: scenario.db,
    url: scenario.url,
  });
  return series;
}

function annotationTarget(): Record<string, unknown> {
  const web = artefacts.dashboards.find((d) => d.uid === roleDashboardUid('web'))!;
  return web.annotations.list![0]!.target as unknown as Record<string, unknown>;
}

const tagValues = (series: InfluxSeries[]) =>
  series.flatMap((s) => s.values.map((v) => String(v[s.columns.indexOf('value')])));

function ctx(intervalMs: number, role: VariableState, version: VariableState): MacroContext {
  return { from: scenario.from, to: scenario.to, intervalMs, variables: { role, version } };
}

const multi = (selected: string[] | 'All', options: string[]): VariableState => ({
  selected,
  options,
  multi: true,
  includeAll: true,
});

beforeAll(async () => {
  scenario = await writeScenario(await freshDatabase('generate'));
  artefacts = generateArtefacts(scenario.model, { grafana: GRAFANA });
  const vars = dashboardQueries(artefacts).filter((q) => q.kind === 'variable');
  const all = { from: scenario.from, to: scenario.to, intervalMs: 10_000 };
  roleOptions = tagValues(
    await run(vars.find((v) => v.origin.endsWith('variable role'))!.query, {
      ...all,
      variables: {},
    }),
  );
  versionOptions = tagValues(
    await run(vars.find((v) => v.origin.endsWith('variable version'))!.query, {
      ...all,
      variables: { role: multi('All', roleOptions) },
    }),
  );
});

describe('generated InfluxQL against the real InfluxDB', () => {
  it('template-variable queries list the role and both versions', () => {
    expect(roleOptions).toEqual(['web']);
    expect(versionOptions).toEqual(['1.4.2', '1.4.3']);
  });

  const variants = [
    {
      name: 'role web, version All, 10s',
      intervalMs: 10_000,
      role: ['web'],
      version: 'All' as const,
    },
    {
      name: 'role web, versions 1.4.2+1.4.3, 1m',
      intervalMs: 60_000,
      role: ['web'],
      version: ['1.4.2', '1.4.3'],
    },
    {
      name: 'role All, version 1.4.3 only, 30s',
      intervalMs: 30_000,
      role: 'All' as const,
      version: ['1.4.3'],
    },
  ];
  for (const v of variants) {
    it(`every panel target and annotation returns rows (${v.name})`, async () => {
      const queries = dashboardQueries(artefacts).filter((q) => q.kind !== 'variable');
      expect(queries.length).toBeGreaterThanOrEqual(25);
      const c = ctx(v.intervalMs, multi(v.role, roleOptions), multi(v.version, versionOptions));
      const empty: string[] = [];
      for (const q of queries) {
        const series = await run(q.query, c);
        if (series.reduce((n, s) => n + s.values.length, 0) === 0) empty.push(q.origin);
      }
      expect(empty).toEqual([]);
    });
  }

  it('a role that has no data returns nothing (the checks above can fail)', async () => {
    const q = dashboardQueries(artefacts).find((x) => x.panelTitle === 'Request rate')!;
    const series = await run(
      q.query,
      ctx(10_000, multi(['db'], ['db']), multi('All', versionOptions)),
    );
    expect(series).toEqual([]);
  });

  it('role series have no gap at the replacement', async () => {
    const c = ctx(10_000, multi(['web'], roleOptions), multi('All', versionOptions));
    const uid = roleDashboardUid('web');
    const roleLevel = dashboardQueries(artefacts).filter(
      (q) =>
        q.origin.startsWith(uid) &&
        q.kind === 'target' &&
        /GROUP BY time\(\$__interval\), "(role|slot)"/.test(q.query),
    );
    expect(roleLevel.map((q) => q.panelTitle)).toEqual(
      expect.arrayContaining([
        'Request rate',
        'Error ratio',
        'reqtime p95',
        'nginx.access: events per slot',
      ]),
    );
    for (const q of roleLevel) {
      for (const s of await run(q.query, c)) {
        const times = s.values.map((r) => Number(r[0]));
        const where = `${q.origin} ${JSON.stringify(s.tags)}`;
        // Continuous: one point every interval from the first bucket to the last.
        expect(times[0], where).toBe(scenario.from);
        expect(times.at(-1), where).toBeGreaterThanOrEqual(scenario.to - 10_000);
        expect(new Set(times.slice(1).map((t, i) => t - times[i]!)), where).toEqual(
          new Set([10_000]),
        );
        // Never a zero or null dip around the swap.
        const around = s.values.filter(
          (r) => Math.abs(Number(r[0]) - scenario.replacedAt) <= 30_000,
        );
        for (const r of around) for (const cell of r.slice(1)) expect(cell, where).not.toBeNull();
      }
    }
    const slotQ = roleLevel.find((q) => q.panelTitle === 'nginx.access: events per slot')!;
    const slot1 = (await run(slotQ.query, c)).find((s) => s.tags?.slot === '1')!;
    expect(slot1.values.every((r) => Number(r[1]) > 0)).toBe(true);
  });

  it('the annotation query returns the replacement with old → new instance', async () => {
    const q = dashboardQueries(artefacts).find(
      (x) => x.kind === 'annotation' && x.origin.startsWith(roleDashboardUid('web')),
    )!;
    const [series] = await run(
      q.query,
      ctx(10_000, multi(['web'], roleOptions), multi('All', versionOptions)),
    );
    const rows = series!.values.map((r) =>
      Object.fromEntries(series!.columns.map((c, i) => [c, r[i]])),
    );
    const replace = rows.find((r) => r.kind === 'replace');
    expect(replace).toMatchObject({
      time: scenario.replacedAt,
      text: 'i-old → i-new (1.4.2 → 1.4.3, release)',
      old_instance_id: 'i-old',
      new_instance_id: 'i-new',
      cause: 'release',
    });
    expect(rows.map((r) => r.kind).sort()).toEqual(['replace', 'rollout_start']);
    // What Grafana's InfluxDB annotation mapping makes of the replace row.
    const target = annotationTarget();
    const tagCols = String(target.tagsColumn).split(',');
    expect({
      title: replace![String(target.titleColumn)],
      text: replace![String(target.textColumn)],
      tags: tagCols.flatMap((c) => String(replace![c]).split(',')),
    }).toEqual({
      title: 'web slot 1 replaced',
      text: 'i-old → i-new (1.4.2 → 1.4.3, release)',
      tags: ['replace', 'web'],
    });
  });

  it('every alert-rule query returns rows over its look-back window', async () => {
    const queries = alertQueries(artefacts);
    expect(queries).toHaveLength(3);
    for (const q of queries) {
      const series = await run(q.query, {
        from: scenario.to - (q.relativeFrom ?? 600) * 1000,
        to: scenario.to,
        intervalMs: 10_000,
        variables: {},
      });
      expect(series.flatMap((s) => s.values).length, q.origin).toBeGreaterThan(0);
    }
  });

  it('stays valid InfluxQL for role names with quotes, slashes and dots', async () => {
    const odd = `we'b/"x".v2`;
    const a = generateArtefacts(
      { ...scenario.model, roles: [{ role: odd, versions: ['1.0'], members: 1, slots: [0] }] },
      { grafana: GRAFANA },
    );
    const c = ctx(10_000, multi([odd], [odd]), multi(['1.0'], ['1.0']));
    for (const q of [...dashboardQueries(a), ...alertQueries(a)]) {
      // Parses and runs (no data for this role): an escaping bug is a query error here.
      const rows = (await run(q.query, c)).flatMap((x) => x.values);
      // The role variable lists every role in the database; everything else is this role's.
      if (!q.origin.endsWith('variable role')) expect(rows, q.origin).toEqual([]);
    }
  });
});
