/**
 * One dashboard per role: the role's rollups as continuous lines (rate, errors by level,
 * status classes, latency percentiles), members by version, per-slot series straight from the
 * event measurements, log volume, and the replacement/rollout annotations.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { addRow, addTimeseries, dashboardFrame, dashboardLink } from './dashboard-frame.ts';
import { roleDashboardUid, versionsDashboardUid } from './dashboard-uid.ts';
import { ident, stringLiteral } from './influxql-text.ts';
import { createPanelGrid } from './panel-grid.ts';
import {
  errorRatioQuery,
  latencyQuery,
  levelsQuery,
  logVolumeQuery,
  membersQuery,
  percentilesQuery,
  requestRateQuery,
  slotCountQuery,
  slotMeanQuery,
  statusClassesQuery,
  variableScope,
} from './rollup-queries.ts';
import type { SignalCatalog } from './signal-catalog.ts';

export function roleDashboard(role: string, cat: SignalCatalog, datasourceUid: string): Dashboard {
  const b = dashboardFrame({
    uid: roleDashboardUid(role),
    title: `fleetline · role ${role}`,
    description: `Role ${role}: role-level series that continue across instance replacements.`,
    datasourceUid,
    from: 'now-7d',
    currentRoles: [role],
  });
  b.link(dashboardLink('Version comparison', `/d/${versionsDashboardUid(role)}`));
  const grid = createPanelGrid();
  const role1 = variableScope(['role']);
  const add = (p: Parameters<typeof addTimeseries>[4]) =>
    addTimeseries(b, grid, datasourceUid, cat.rollupInterval, p);

  addRow(b, grid, 'Role');
  add({
    title: 'Request rate',
    description: 'Requests per second over all live members of the role.',
    unit: 'reqps',
    targets: [{ query: requestRateQuery(cat, role1), alias: '$tag_role' }],
  });
  add({
    title: 'Error ratio',
    description: 'Share of requests answered 5xx (error-level events when no request log).',
    unit: 'percentunit',
    targets: [{ query: errorRatioQuery(cat, role1), alias: '$tag_role' }],
  });
  add({
    title: `${cat.numericFields[0]} p95`,
    description: 'p95 from all instances’ raw values (worst version when versions coexist).',
    unit: 's',
    targets: [{ query: latencyQuery(cat, role1), alias: 'p95' }],
  });
  add({
    title: 'Members by version',
    description:
      'Live instances per version: a rollout shows as one line handing over to the next.',
    unit: 'short',
    stack: true,
    targets: [{ query: membersQuery(variableScope(['version'])), alias: '$tag_version' }],
  });

  addRow(b, grid, 'Errors and status');
  add({
    title: 'Events by level',
    description: 'Log events per level (role rollup).',
    unit: 'short',
    stack: true,
    targets: [{ query: levelsQuery(cat, role1), alias: '$col' }],
  });
  add({
    title: 'Status classes',
    description: 'Requests per HTTP status class (role rollup).',
    unit: 'short',
    stack: true,
    targets: [{ query: statusClassesQuery(cat, role1), alias: '$col' }],
  });
  for (const field of cat.numericFields) {
    add({
      title: `${field} percentiles`,
      description: `p50/p95/p99/max of ${field} merged over all instances.`,
      unit: 's',
      targets: [{ query: percentilesQuery(field, role1), alias: '$col' }],
    });
  }
  add({
    title: 'Log volume',
    description: 'Events per source measurement.',
    unit: 'short',
    stack: true,
    targets: [{ query: logVolumeQuery(role1), alias: '$tag_measurement' }],
  });

  if (cat.slotMeasurements.length > 0) {
    addRow(b, grid, 'Slots');
    // Per-slot series are read at event level for exactly this role, not the variable: slot
    // numbers only mean something within one role.
    const where = `"role" = ${stringLiteral(role)} AND "version" =~ /^$version$/`;
    for (const m of cat.slotMeasurements) {
      add({
        title: `${m.name}: events per slot`,
        description: `Points of ${ident(m.name)} per slot; a replacement inherits its slot.`,
        unit: 'short',
        targets: [{ query: slotCountQuery(m.name, m.countField, where), alias: 'slot $tag_slot' }],
      });
      if (m.meanField)
        add({
          title: `${m.name}: ${m.meanField} per slot`,
          description: `Mean ${m.meanField} per slot.`,
          unit: 'short',
          targets: [{ query: slotMeanQuery(m.name, m.meanField, where), alias: 'slot $tag_slot' }],
        });
    }
  }
  return b.build();
}
