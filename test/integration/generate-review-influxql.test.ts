/**
 * Role names that the InfluxDB encoder cannot store as is (a newline, a carriage return, a
 * trailing backslash: docs/INFLUXDB-SCHEMA.md, src/sinks/influxdb/encode.ts) must still give
 * alert and role-dashboard queries that parse and find the role's data as it is stored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateArtefacts } from '../../src/generate/artefacts.ts';
import { roleDashboardUid } from '../../src/generate/dashboard-uid.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { encodeLine } from '../../src/sinks/influxdb/encode.ts';
import { alertQueries, dashboardQueries } from '../generate/generated-queries.ts';
import { grafanaQuery } from '../helpers/grafana-macros.ts';
import { freshDatabase, influxql, influxUrl } from '../helpers/influxdb.ts';

const GRAFANA = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const ROLES = ['web\\', 'a\nb', 'c\r\nd', `q'"\\x`, 'w\\ x\\,y', '\t#r'];

let db: string;
const model: GenerationModel = {
  roles: ROLES.map((role) => ({ role, versions: ['1.0'], members: 1, slots: [0] })),
  measurements: [],
  instances: [],
};

beforeAll(async () => {
  db = await freshDatabase('genreview');
  const lines: string[] = [];
  for (const role of ROLES)
    for (let i = 0; i < 10; i++) {
      const timeNs = BigInt(T0 + i * 60_000) * 1_000_000n;
      const tags = { role, version: '1.0', measurement: 'app.log' };
      lines.push(
        encodeLine({
          measurement: 'fleet_rollup',
          tags,
          fields: { events: 10, level_error: 1, reqtime_p95: 0.2 },
          timeNs,
        })!,
        encodeLine({ measurement: 'fleet_members', tags, fields: { members: 1 }, timeNs })!,
      );
    }
  const res = await fetch(`${influxUrl()}/write?db=${db}&precision=ns`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  expect(res.status, await res.text()).toBe(204);
});

describe('generated InfluxQL for roles the encoder rewrites', () => {
  it('alert-rule queries parse and return the role’s rows', async () => {
    const a = generateArtefacts(model, { grafana: GRAFANA });
    const queries = alertQueries(a);
    expect(queries.length).toBe(ROLES.length * 3);
    for (const q of queries) {
      const text = grafanaQuery(q.query, {
        from: T0,
        to: T0 + 10 * 60_000,
        intervalMs: 60_000,
        variables: {},
      });
      const [series = []] = await influxql(text, { db });
      expect(series.flatMap((s) => s.values).length, `${q.origin}: ${text}`).toBeGreaterThan(0);
    }
  });

  it('role dashboards start on a role value InfluxDB lists, and their queries parse and find it', async () => {
    const a = generateArtefacts(
      {
        ...model,
        measurements: [{ name: 'app.log', tagKeys: ['role', 'slot'], fields: { msg: 'string' } }],
      },
      { grafana: GRAFANA },
    );
    const [tv = []] = await influxql('SHOW TAG VALUES FROM "fleet_rollup" WITH KEY = "role"', {
      db,
    });
    const options = tv.flatMap((s) => s.values.map((v) => String(v[1])));
    expect(options).toHaveLength(ROLES.length);
    for (const role of ROLES) {
      const uid = roleDashboardUid(role);
      const d = a.dashboards.find((x) => x.uid === uid)!;
      const current = d.templating?.list?.find((v) => v.name === 'role')?.current
        ?.value as string[];
      expect(current).toHaveLength(1);
      expect(options, JSON.stringify(role)).toContain(current[0]);
      const members = dashboardQueries(a).find(
        (x) => x.origin.startsWith(`${uid} /`) && /FROM "fleet_members"/.test(x.query),
      )!;
      for (const q of dashboardQueries(a).filter((x) => x.origin.startsWith(`${uid} /`))) {
        const text = grafanaQuery(q.query, {
          from: T0,
          to: T0 + 10 * 60_000,
          intervalMs: 60_000,
          variables: {
            role: { selected: [current[0]!], options, multi: true, includeAll: true },
            version: { selected: ['1.0'], options: ['1.0'], multi: true, includeAll: true },
          },
        });
        const [series = []] = await influxql(text, { db });
        if (q === members) expect(series.flatMap((s) => s.values).length, text).toBeGreaterThan(0);
      }
    }
  });
});
