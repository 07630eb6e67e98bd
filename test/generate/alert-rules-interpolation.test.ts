/**
 * Grafana expands environment variables (`$NAME`, `${NAME}`) and its own expanders
 * (`$__file{…}`, `$__env{…}`) in most string fields of an alert-rule provisioning file — group
 * name, folder, rule title, labels — with `$$` for a literal `$`
 * (pkg/services/provisioning/values). The rule `model` is read raw, so `$timeFilter` must stay
 * as is there. Role names are user data (records, static files): whatever they contain must
 * reach Grafana unchanged, and must never make it read a file or an environment variable.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTS_FILE, generateArtefacts } from '../../src/generate/artefacts.ts';
import type { GenerationModel } from '../../src/generate/model.ts';

const grafana = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};

/** What Grafana makes of an interpolated string field (values.interpolateValue), env empty. */
function grafanaInterpolated(v: string): string {
  return v
    .split('$$')
    .map((part) => {
      if (/\$__(file|env|vault)\{/.test(part)) throw new Error(`expander reached: ${part}`);
      return part.replace(/\$(\{[^}]*\}|[A-Za-z0-9_]+|[*#$@!?-])/g, '');
    })
    .join('$');
}

const roles = ['pay$svc', '$HOME', '$__file{/etc/passwd}', 'a$$b', 'x{{ .Foo }}y'];
const model: GenerationModel = {
  roles: roles.map((role) => ({ role, versions: ['1.0'], members: 1, slots: [0] })),
  measurements: [],
  instances: [],
};

describe('alert-rule provisioning with odd role names', () => {
  const file = generateArtefacts(model, { grafana }).files.find((f) => f.path === ALERTS_FILE)!;
  const doc = parse(file.content) as {
    groups: {
      name: string;
      folder: string;
      rules: {
        title: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
        data: { model: { query?: string } }[];
      }[];
    }[];
  };

  it('reach Grafana unchanged in group names, titles and labels', () => {
    const seen = doc.groups.map((g) => {
      const role = grafanaInterpolated(g.rules[0]!.labels.role!);
      expect(grafanaInterpolated(g.name)).toBe(`fleetline-${role}`);
      for (const r of g.rules) {
        expect(grafanaInterpolated(r.labels.role!)).toBe(role);
        expect(grafanaInterpolated(r.title).startsWith(`${role}: `)).toBe(true);
      }
      return role;
    });
    expect(seen.sort()).toEqual([...roles].sort());
  });

  // Annotations are read raw by older Grafana, with `${NAME}` expanded by newer ones, and are
  // Go templates rendered at notification time: no `{{`/`}}` and no `${` may come from a name.
  it('keep role text from becoming a template action or a braced variable in annotations', () => {
    for (const g of doc.groups)
      for (const r of g.rules) {
        for (const v of Object.values(r.annotations)) expect(v).not.toMatch(/\{\{|\}\}|\$\{/);
        expect(r.data[0]!.model.query).toMatch(/ AND \$timeFilter /);
      }
    const home = doc.groups.find((g) => grafanaInterpolated(g.rules[0]!.labels.role!) === '$HOME');
    expect(home?.rules[0]?.annotations.summary).toMatch(/^Error ratio of role \$HOME above /);
  });

  it('give the dashboards provider and the alert rules the same folder, `$` included', () => {
    const g = { ...grafana, folder_title: 'ops $team' };
    const files = generateArtefacts(model, { grafana: g }).files;
    const alerts = parse(files.find((f) => f.path === ALERTS_FILE)!.content);
    const provider = parse(files.find((f) => f.path === 'provisioning/dashboards.yaml')!.content);
    expect(grafanaInterpolated(alerts.groups[0].folder)).toBe('ops $team');
    expect(grafanaInterpolated(provider.providers[0].folder)).toBe('ops $team');
  });
});
