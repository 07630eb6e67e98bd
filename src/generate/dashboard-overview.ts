/**
 * The fleet overview: every role's request rate, error ratio, p95 latency and members by
 * version on one screen, plus the recent replacements and rollouts as a table and as
 * annotations. Links to each role's dashboard.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  addRow,
  addTable,
  addTimeseries,
  dashboardFrame,
  dashboardLink,
} from './dashboard-frame.ts';
import { OVERVIEW_UID, roleDashboardUid } from './dashboard-uid.ts';
import { createPanelGrid } from './panel-grid.ts';
import {
  errorRatioQuery,
  fleetEventsQuery,
  latencyQuery,
  membersQuery,
  requestRateQuery,
  variableScope,
} from './rollup-queries.ts';
import type { SignalCatalog } from './signal-catalog.ts';

export function overviewDashboard(
  roles: readonly string[],
  cat: SignalCatalog,
  datasourceUid: string,
): Dashboard {
  const b = dashboardFrame({
    uid: OVERVIEW_UID,
    title: 'fleetline · fleet overview',
    description: 'Every role at a glance; lines follow roles, not instances.',
    datasourceUid,
    from: 'now-24h',
    currentRoles: [],
  });
  for (const role of roles) b.link(dashboardLink(`Role ${role}`, `/d/${roleDashboardUid(role)}`));
  const grid = createPanelGrid();
  const byRole = variableScope(['role']);
  const add = (p: Parameters<typeof addTimeseries>[4]) =>
    addTimeseries(b, grid, datasourceUid, cat.rollupInterval, p);

  addRow(b, grid, 'Roles');
  add({
    title: 'Request rate',
    description: 'Requests per second per role.',
    unit: 'reqps',
    targets: [{ query: requestRateQuery(cat, byRole), alias: '$tag_role' }],
  });
  add({
    title: 'Error ratio',
    description: '5xx share per role.',
    unit: 'percentunit',
    targets: [{ query: errorRatioQuery(cat, byRole), alias: '$tag_role' }],
  });
  add({
    title: `${cat.numericFields[0]} p95`,
    description: 'p95 latency per role (worst version).',
    unit: 's',
    targets: [{ query: latencyQuery(cat, byRole), alias: '$tag_role' }],
  });
  add({
    title: 'Members by version',
    description: 'Live instances per role and version.',
    unit: 'short',
    targets: [
      { query: membersQuery(variableScope(['role', 'version'])), alias: '$tag_role $tag_version' },
    ],
  });
  addRow(b, grid, 'Changes');
  addTable(b, grid, datasourceUid, {
    title: 'Recent replacements and rollouts',
    description: 'Latest fleet events: old → new instance, versions and cause.',
    query: fleetEventsQuery('"role" =~ /^$role$/', 50),
  });
  return b.build();
}
