import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTS_FILE, generateArtefacts } from '../../src/generate/artefacts.ts';
import { isValidUid, roleDashboardUid } from '../../src/generate/dashboard-uid.ts';
import { scenarioModel } from './fleet-scenario.ts';

const grafana = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: {
    defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 },
    roles: { web: { error_ratio: 0.02, min_members: 3 } },
  },
};

/** Grafana's file-provisioning structure for alert rules (rules_types.go). */
const provisioningSchema = {
  type: 'object',
  required: ['apiVersion', 'groups'],
  properties: {
    apiVersion: { const: 1 },
    groups: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['orgId', 'name', 'folder', 'interval', 'rules'],
        properties: {
          interval: { type: 'string', pattern: '^\\d+[smh]$' },
          rules: {
            type: 'array',
            items: {
              type: 'object',
              required: ['uid', 'title', 'condition', 'data', 'for', 'noDataState', 'execErrState'],
              properties: {
                uid: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,40}$' },
                for: { type: 'string', pattern: '^\\d+[smh]$' },
                noDataState: { enum: ['NoData', 'Alerting', 'OK'] },
                execErrState: { enum: ['Error', 'Alerting', 'OK'] },
                data: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['refId', 'datasourceUid', 'model'],
                    properties: { model: { type: 'object', required: ['refId'] } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

interface Rule {
  uid: string;
  title: string;
  condition: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: { refId: string; datasourceUid: string; model: Record<string, unknown> }[];
}

describe('generated alert rules', () => {
  const file = generateArtefacts(scenarioModel, { grafana }).files.find(
    (f) => f.path === ALERTS_FILE,
  )!;
  const doc = parse(file.content) as { groups: { name: string; folder: string; rules: Rule[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('parse as YAML with the provisioning structure', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(provisioningSchema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.groups.map((g) => [g.name, g.folder])).toEqual([['fleetline-web', 'fleetline']]);
  });

  it('cover error ratio, p95 latency and members per role, with unique valid uids', () => {
    expect(rules.map((r) => r.labels.signal)).toEqual(['err', 'p95', 'mem']);
    expect(new Set(rules.map((r) => r.uid)).size).toBe(3);
    for (const r of rules) expect(isValidUid(r.uid)).toBe(true);
  });

  it('query rollups, reduce, then threshold, with the condition on the threshold', () => {
    for (const r of rules) {
      expect(r.data.map((d) => d.refId)).toEqual(['A', 'B', 'C']);
      expect(r.condition).toBe('C');
      expect(r.data[0]).toMatchObject({ datasourceUid: 'fleetline-influxdb' });
      expect(r.data[0]!.model).toMatchObject({ rawQuery: true });
      expect(r.data[1]!.model).toMatchObject({ type: 'reduce', expression: 'A' });
      expect(r.data[2]!.model).toMatchObject({ type: 'threshold', expression: 'B' });
    }
  });

  it('use per-role thresholds over the defaults', () => {
    const threshold = (signal: string) =>
      (
        rules.find((r) => r.labels.signal === signal)!.data[2]!.model.conditions as {
          evaluator: { type: string; params: number[] };
        }[]
      )[0]!.evaluator;
    expect(threshold('err')).toEqual({ type: 'gt', params: [0.02] });
    expect(threshold('p95')).toEqual({ type: 'gt', params: [1] });
    expect(threshold('mem')).toEqual({ type: 'lt', params: [3] });
  });

  it('are role-level: labelled by role, never keyed or grouped on an instance, linked to the dashboard', () => {
    for (const r of rules) {
      expect(r.labels.role).toBe('web');
      expect(Object.keys(r.labels)).not.toContain('instance_id');
      const q = String(r.data[0]!.model.query);
      expect(q).toContain(`"role" = 'web'`);
      expect(q).not.toMatch(/instance|host/);
      expect(r.annotations.dashboard_url).toBe(`/d/${roleDashboardUid('web')}`);
    }
  });
});
