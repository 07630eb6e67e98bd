/**
 * Version comparison for one role: the role dashboard's signals grouped by `version`, for
 * rolling releases where two versions serve side by side. Lines are per version, so "is
 * 1.4.3 worse than 1.4.2?" is read off one panel.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  addRow,
  addTable,
  addTimeseries,
  dashboardFrame,
  dashboardLink,
} from './dashboard-frame.ts';
import { roleDashboardUid, versionsDashboardUid } from './dashboard-uid.ts';
import { ident } from './influxql-text.ts';
import { createPanelGrid } from './panel-grid.ts';
import {
  errorRatioQuery,
  latencyQuery,
  levelsQuery,
  membersQuery,
  requestRateQuery,
  variableScope,
} from './rollup-queries.ts';
import type { SignalCatalog } from './signal-catalog.ts';

export function versionsDashboard(
  role: string,
  cat: SignalCatalog,
  datasourceUid: string,
): Dashboard {
  const b = dashboardFrame({
    uid: versionsDashboardUid(role),
    title: `fleetline · versions of ${role}`,
    description: `Role ${role}: every signal split by version, for rolling releases.`,
    datasourceUid,
    from: 'now-7d',
    currentRoles: [role],
  });
  b.link(dashboardLink(`Role ${role}`, `/d/${roleDashboardUid(role)}`));
  const grid = createPanelGrid();
  const byVersion = variableScope(['version']);
  const add = (p: Parameters<typeof addTimeseries>[4]) =>
    addTimeseries(b, grid, datasourceUid, cat.rollupInterval, p);

  addRow(b, grid, 'By version');
  add({
    title: 'Request rate by version',
    description: 'Requests per second served by each version.',
    unit: 'reqps',
    targets: [{ query: requestRateQuery(cat, byVersion), alias: '$tag_version' }],
  });
  add({
    title: 'Error ratio by version',
    description: '5xx share per version.',
    unit: 'percentunit',
    targets: [{ query: errorRatioQuery(cat, byVersion), alias: '$tag_version' }],
  });
  for (const pct of ['p50', 'p95', 'p99']) {
    add({
      title: `${cat.numericFields[0]} ${pct} by version`,
      description: `${pct} per version, exact per rollup interval.`,
      unit: 's',
      targets: [{ query: latencyQuery(cat, byVersion, pct), alias: '$tag_version' }],
    });
  }
  add({
    title: 'Members by version',
    description: 'Live instances per version.',
    unit: 'short',
    targets: [{ query: membersQuery(byVersion), alias: '$tag_version' }],
  });
  add({
    title: 'Events by level and version',
    description: 'Log events per level and version.',
    unit: 'short',
    targets: [{ query: levelsQuery(cat, byVersion), alias: '$tag_version $col' }],
  });
  addTable(b, grid, datasourceUid, {
    title: 'Versions over the range',
    description: 'Totals per version over the selected time range.',
    query: `SELECT sum("events") AS "events", sum("status_5xx") AS "errors_5xx", max(${ident(`${cat.numericFields[0]}_p95`)}) AS "worst_p95" FROM "fleet_rollup" WHERE "role" =~ /^$role$/ AND "version" =~ /^$version$/ AND $timeFilter GROUP BY "version"`,
  });
  return b.build();
}
