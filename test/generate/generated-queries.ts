/**
 * Collects every InfluxQL query a generated artefact will make Grafana run: panel targets,
 * template-variable queries, annotation queries and alert-rule data queries, each with where
 * it came from, so a failing check names the panel.
 */
import { parse } from 'yaml';
import type { Artefacts } from '../../src/generate/artefacts.ts';
import { ALERTS_FILE } from '../../src/generate/artefacts.ts';

export interface GeneratedQuery {
  /** `<dashboard uid> / <panel title> / <refId>` or `alert <rule uid>`. */
  origin: string;
  kind: 'target' | 'variable' | 'annotation' | 'alert';
  query: string;
  resultFormat?: string;
  /** Alert rules: seconds before "now" the rule looks back. */
  relativeFrom?: number;
  panelTitle?: string;
}

interface LooseDashboard {
  uid: string;
  panels?: {
    title?: string;
    type?: string;
    targets?: { refId: string; query: string; resultFormat?: string }[];
  }[];
  templating?: { list?: { name: string; query: string }[] };
  annotations?: { list?: { name: string; target?: { query?: string } }[] };
}

export function dashboardQueries(a: Artefacts): GeneratedQuery[] {
  const out: GeneratedQuery[] = [];
  for (const d of a.dashboards as unknown as LooseDashboard[]) {
    for (const p of d.panels ?? []) {
      for (const t of p.targets ?? [])
        out.push({
          origin: `${d.uid} / ${p.title} / ${t.refId}`,
          kind: 'target',
          query: t.query,
          resultFormat: t.resultFormat,
          panelTitle: p.title,
        });
    }
    for (const v of d.templating?.list ?? [])
      out.push({ origin: `${d.uid} / variable ${v.name}`, kind: 'variable', query: v.query });
    for (const an of d.annotations?.list ?? [])
      if (an.target?.query)
        out.push({
          origin: `${d.uid} / annotation ${an.name}`,
          kind: 'annotation',
          query: an.target.query,
        });
  }
  return out;
}

interface LooseAlerts {
  groups: {
    rules: {
      uid: string;
      data: {
        datasourceUid: string;
        relativeTimeRange?: { from: number };
        model: { query?: string };
      }[];
    }[];
  }[];
}

export function alertQueries(a: Artefacts): GeneratedQuery[] {
  const file = a.files.find((f) => f.path === ALERTS_FILE);
  if (!file) throw new Error('no alert rules file generated');
  const doc = parse(file.content) as LooseAlerts;
  return doc.groups.flatMap((g) =>
    g.rules.flatMap((r) =>
      r.data
        .filter((d) => d.datasourceUid !== '__expr__')
        .map((d) => ({
          origin: `alert ${r.uid} / ${d.datasourceUid}`,
          kind: 'alert' as const,
          query: d.model.query ?? '',
          relativeFrom: d.relativeTimeRange?.from,
        })),
    ),
  );
}
