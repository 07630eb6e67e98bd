/**
 * What every generated dashboard shares: the frame (tags, time range, refresh, not editable
 * because provisioning overwrites UI edits anyway), the `role`/`version` template variables,
 * the `fleet_events` annotation, and panel factories that place panels on the grid with their
 * datasource and InfluxQL targets. The per-dashboard files only decide *which* panels.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { storedTagValue } from '../sinks/influxdb/encode.ts';
import { InfluxQLBuilder, influxDatasource } from './influxql-query.ts';
import type { PanelGrid } from './panel-grid.ts';
import { fleetEventsQuery, tagValuesQuery } from './rollup-queries.ts';

export interface FrameOptions {
  uid: string;
  title: string;
  description: string;
  datasourceUid: string;
  /** Roles the `role` variable starts on; empty = All. */
  currentRoles: readonly string[];
  /** Default time range, e.g. `now-7d`. */
  from: string;
}

export function dashboardFrame(o: FrameOptions): DashboardBuilder {
  const ds = influxDatasource(o.datasourceUid);
  const roleCurrent =
    o.currentRoles.length > 0
      ? // As stored in InfluxDB, so the value is one of the variable's SHOW TAG VALUES options.
        { text: o.currentRoles.map(storedTagValue), value: o.currentRoles.map(storedTagValue) }
      : { text: ['All'], value: ['$__all'] };
  const b = new DashboardBuilder(o.title)
    .uid(o.uid)
    .description(o.description)
    .tags(['fleetline'])
    .readonly()
    .time({ from: o.from, to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(variable('role', 'Role', ds, tagValuesQuery('role'), roleCurrent))
    .withVariable(
      variable('version', 'Version', ds, tagValuesQuery('version'), {
        text: ['All'],
        value: ['$__all'],
      }),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Replacements & rollouts')
        .datasource(ds)
        .enable(true)
        .hide(false)
        .iconColor('orange')
        .target(
          new InfluxQLBuilder(
            o.datasourceUid,
            fleetEventsQuery('"role" =~ /^$role$/'),
            'Anno',
          ).annotationColumns({ text: 'text', tags: 'kind,role', title: 'title' }),
        ),
    );
  return b;
}

/** A link to another generated dashboard, carrying the time range and variables along. */
export function dashboardLink(title: string, url: string): DashboardLinkBuilder {
  return new DashboardLinkBuilder(title)
    .type(DashboardLinkType.Link)
    .url(url)
    .icon('dashboard')
    .tooltip('')
    .tags([])
    .asDropdown(false)
    .targetBlank(false)
    .includeVars(true)
    .keepTime(true);
}

function variable(
  name: string,
  label: string,
  ds: common.DataSourceRef,
  query: string,
  current: { text: string[]; value: string[] },
) {
  // multi + includeAll make Grafana regex-escape values and render `(a|b)`; no custom
  // allValue, so "All" expands to the listed values and the regex stays anchored.
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(ds)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allowCustomValue(false)
    .current(current);
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  /** InfluxQL text + legend alias per target. */
  targets: { query: string; alias?: string }[];
  w?: number;
  h?: number;
  stack?: boolean;
}

export function addRow(b: DashboardBuilder, grid: PanelGrid, title: string): void {
  const { id, gridPos } = grid.row();
  b.withRow(new RowBuilder(title).id(id).gridPos(gridPos).collapsed(false));
}

export function addTimeseries(
  b: DashboardBuilder,
  grid: PanelGrid,
  datasourceUid: string,
  minInterval: string,
  p: PanelSpec,
): number {
  const { id, gridPos } = grid.place(p.w, p.h);
  const panel = new timeseries.PanelBuilder()
    .id(id)
    .title(p.title)
    .description(p.description)
    .datasource(influxDatasource(datasourceUid))
    .gridPos(gridPos)
    .interval(minInterval)
    .unit(p.unit)
    .lineWidth(1)
    .fillOpacity(p.stack ? 30 : 5)
    // Belt and braces: should a query ever return an explicit null, draw through it.
    .spanNulls(true)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .calcs([]),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  if (p.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  p.targets.forEach((t, i) => {
    const q = new InfluxQLBuilder(datasourceUid, t.query, refId(i));
    if (t.alias) q.alias(t.alias);
    panel.withTarget(q);
  });
  b.withPanel(panel);
  return id;
}

export function addTable(
  b: DashboardBuilder,
  grid: PanelGrid,
  datasourceUid: string,
  p: { title: string; description: string; query: string; w?: number; h?: number },
): number {
  const { id, gridPos } = grid.place(p.w ?? 24, p.h ?? 8);
  b.withPanel(
    new table.PanelBuilder()
      .id(id)
      .title(p.title)
      .description(p.description)
      .datasource(influxDatasource(datasourceUid))
      .gridPos(gridPos)
      .withTarget(new InfluxQLBuilder(datasourceUid, p.query, 'A').table()),
  );
  return id;
}

function refId(i: number): string {
  return String.fromCharCode(65 + i);
}
