import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { generateArtefacts } from '../../src/generate/artefacts.ts';
import {
  isValidUid,
  OVERVIEW_UID,
  roleDashboardUid,
  stableUid,
  versionsDashboardUid,
} from '../../src/generate/dashboard-uid.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { stableJson } from '../../src/generate/stable-json.ts';
import { scenarioModel } from './fleet-scenario.ts';

const GRAFANA = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};

const generate = (m: GenerationModel = scenarioModel) => generateArtefacts(m, { grafana: GRAFANA });

interface Panel {
  id?: number;
  type: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; query: string; datasource?: { uid: string } }[];
}

/** The essentials of Grafana's classic dashboard JSON model that Grafana relies on. */
const dashboardSchema = {
  type: 'object',
  required: [
    'uid',
    'title',
    'schemaVersion',
    'panels',
    'templating',
    'annotations',
    'time',
    'tags',
  ],
  properties: {
    uid: { type: 'string', pattern: '^[a-z0-9_-]{1,40}$' },
    tags: { const: ['fleetline'] },
    panels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'gridPos', 'title'],
        properties: {
          gridPos: {
            type: 'object',
            required: ['x', 'y', 'w', 'h'],
            properties: { w: { maximum: 24 }, x: { maximum: 23 } },
          },
        },
      },
    },
    templating: {
      type: 'object',
      properties: {
        list: {
          type: 'array',
          items: {
            type: 'object',
            required: ['type', 'name', 'query', 'datasource', 'multi', 'includeAll'],
          },
        },
      },
    },
  },
};

describe('generated dashboards', () => {
  const { dashboards, files } = generate();
  const web = dashboards.find((d) => d.uid === roleDashboardUid('web'))!;

  it('are an overview, one per role and a version comparison per role', () => {
    expect(dashboards.map((d) => d.uid)).toEqual([
      OVERVIEW_UID,
      roleDashboardUid('web'),
      versionsDashboardUid('web'),
    ]);
  });

  it('match the dashboard JSON model', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(dashboardSchema);
    for (const d of dashboards) expect(validate(d), JSON.stringify(validate.errors)).toBe(true);
  });

  it('give every panel a unique id, gridPos, the datasource and at least one target', () => {
    for (const d of dashboards) {
      const panels = d.panels as unknown as Panel[];
      expect(new Set(panels.map((p) => p.id)).size, d.uid).toBe(panels.length);
      for (const p of panels.filter((x) => x.type !== 'row')) {
        expect(p.gridPos, `${d.uid} ${p.id}`).toBeDefined();
        expect(p.datasource).toEqual({ type: 'influxdb', uid: 'fleetline-influxdb' });
        expect(p.targets?.length, `${d.uid} ${p.id}`).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.datasource?.uid).toBe('fleetline-influxdb');
          expect(t.query).toContain('$timeFilter');
        }
      }
    }
  });

  it('lay panels out without overlaps', () => {
    for (const d of dashboards) {
      const cells = new Set<string>();
      for (const p of d.panels as unknown as Panel[])
        for (let x = p.gridPos!.x; x < p.gridPos!.x + p.gridPos!.w; x++)
          for (let y = p.gridPos!.y; y < p.gridPos!.y + p.gridPos!.h; y++) {
            expect(cells.has(`${x},${y}`), `${d.uid} panel ${p.id}`).toBe(false);
            cells.add(`${x},${y}`);
          }
    }
  });

  it('query through $timeFilter and GROUP BY time($__interval), never by instance', () => {
    for (const d of dashboards)
      for (const p of d.panels as unknown as Panel[])
        for (const t of p.targets ?? []) {
          expect(t.query.split('GROUP BY')[1] ?? '').not.toMatch(/instance|host/);
          if (!/GROUP BY "version"$|ORDER BY time DESC/.test(t.query))
            expect(t.query).toContain('GROUP BY time($__interval)');
        }
  });

  it('have role and version variables (SHOW TAG VALUES, multi, All) and the fleet_events annotation', () => {
    const vars = web.templating.list!;
    expect(vars.map((v) => [v.name, v.multi, v.includeAll])).toEqual([
      ['role', true, true],
      ['version', true, true],
    ]);
    expect(String(vars[0]!.query)).toMatch(
      /^SHOW TAG VALUES FROM "fleet_rollup" WITH KEY = "role"/,
    );
    expect(vars[0]!.current).toEqual({ text: ['web'], value: ['web'] });
    const anno = web.annotations.list!.find((a) => a.name === 'Replacements & rollouts')!;
    expect(anno).not.toHaveProperty('query');
    expect(anno.target).toMatchObject({
      fromAnnotations: true,
      rawQuery: true,
      textColumn: 'text',
      tagsColumn: 'kind,role',
      titleColumn: 'title',
    });
  });

  it('are byte-identical for identical input, whatever the input order', () => {
    const shuffled: GenerationModel = {
      ...scenarioModel,
      measurements: [...scenarioModel.measurements].reverse(),
      roles: [...scenarioModel.roles].reverse(),
    };
    expect(generate(shuffled).files).toEqual(files);
    expect(generate().files).toEqual(files);
  });

  it('match the stored snapshot of the web role dashboard', async () => {
    await expect(stableJson(web)).toMatchFileSnapshot('../fixtures/generate/role-web.json');
  });
});

describe('dashboard uids', () => {
  it('are valid, deterministic and distinct for roles whose slugs coincide', () => {
    const roles = ['web', 'Web', 'web!', 'a'.repeat(80), `${'a'.repeat(80)}b`, 'ünïcode', '---'];
    const uids = roles.map(roleDashboardUid);
    for (const u of uids) expect(isValidUid(u), u).toBe(true);
    expect(new Set(uids).size).toBe(roles.length);
    expect(roles.map(roleDashboardUid)).toEqual(uids);
    expect(roleDashboardUid('web')).toMatch(/^fl-role-web-[0-9a-f]{8}$/);
    expect(stableUid('fl-role', '---')).toMatch(/^fl-role-[0-9a-f]{8}$/);
  });

  it('still produce an overview, provisioning and an empty rule set for an empty fleet', () => {
    const { dashboards, files } = generate({ roles: [], measurements: [], instances: [] });
    expect(dashboards.map((d) => d.uid)).toEqual([OVERVIEW_UID]);
    const alerts = files.find((f) => f.path.endsWith('fleetline-alerts.yaml'))!.content;
    expect(alerts).toContain('groups: []');
    expect(files).toHaveLength(4);
  });

  it('keep the unknown role out of dashboards', () => {
    const { dashboards } = generate({
      ...scenarioModel,
      roles: [...scenarioModel.roles, { role: 'unknown', versions: [], members: 1, slots: [] }],
    });
    expect(dashboards).toHaveLength(3);
  });
});
