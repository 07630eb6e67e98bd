/**
 * Grafana unified-alerting provisioning (`provisioning/alerting/fleetline-alerts.yaml`): per
 * role, error ratio high, p95 latency high and members below the expected count. Every rule
 * queries the role rollups with the role fixed and no instance in sight, so a planned swap
 * never fires or resets an alert. Thresholds: `grafana.alerts.roles.<role>` over
 * `grafana.alerts.defaults`.
 */
import type { GrafanaConfig } from '../config/schema.ts';
import { roleDashboardUid, stableUid } from './dashboard-uid.ts';
import { stringLiteral } from './influxql-text.ts';
import {
  errorRatioQuery,
  latencyQuery,
  type QueryScope,
  roleMembersQuery,
} from './rollup-queries.ts';
import type { SignalCatalog } from './signal-catalog.ts';

export interface AlertQuery {
  refId: string;
  relativeTimeRange?: { from: number; to: number };
  datasourceUid: string;
  model: Record<string, unknown>;
}

export interface AlertRule {
  uid: string;
  title: string;
  condition: 'C';
  data: AlertQuery[];
  noDataState: 'NoData' | 'Alerting' | 'OK';
  execErrState: 'Error' | 'Alerting' | 'OK';
  for: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  isPaused: boolean;
}

export interface AlertProvisioning {
  apiVersion: 1;
  groups: {
    orgId: number;
    name: string;
    folder: string;
    interval: string;
    rules: AlertRule[];
  }[];
}

/**
 * Grafana expands environment variables and its own expanders (`$__file{…}`, `$__env{…}`) in
 * the group name, folder, rule title and label values of a provisioning file, with `$$` for a
 * literal `$` (pkg/services/provisioning/values); the query `model` is read raw. Names here
 * are user data (roles from records, field names from the catalog): a `$` in them must reach
 * Grafana as a `$`, not read a variable or a file.
 */
export const provisioningLiteral = (s: string): string => s.split('$').join('$$');

/**
 * Annotations are Go templates rendered at notification time, read raw by Grafana up to 12
 * and with `${NAME}` expanded by later versions (where `$$` is not documented). A name is put
 * in as text that is neither: `{{`, `}}` and `${` are broken up with a space.
 */
const annotationText = (s: string): string =>
  s
    .replace(/\{(?=\{)/g, '{ ')
    .replace(/\}(?=\})/g, '} ')
    .replace(/\$(?=\{)/g, '$ ');

/** Look-back of each rule query: five minutes of rollups. */
const WINDOW_SECONDS = 300;
const EVAL_INTERVAL = '1m';

export function alertRules(
  roles: readonly string[],
  cat: SignalCatalog,
  grafana: Pick<GrafanaConfig, 'datasource_uid' | 'folder_title' | 'alerts'>,
): AlertProvisioning {
  return {
    apiVersion: 1,
    groups: [...roles].map((role) => ({
      orgId: 1,
      name: provisioningLiteral(`fleetline-${role}`),
      folder: provisioningLiteral(grafana.folder_title),
      interval: EVAL_INTERVAL,
      rules: roleRules(role, cat, grafana),
    })),
  };
}

function roleRules(
  role: string,
  cat: SignalCatalog,
  grafana: Pick<GrafanaConfig, 'datasource_uid' | 'alerts'>,
): AlertRule[] {
  const t = { ...grafana.alerts.defaults, ...grafana.alerts.roles[role] };
  const where = `"role" = ${stringLiteral(role)}`;
  const scope: QueryScope = { where, interval: '1m', groupBy: [] };
  const ds = grafana.datasource_uid;
  const dashboard = roleDashboardUid(role);
  const rule = (
    kind: string,
    title: string,
    query: string,
    reducer: 'mean' | 'last' | 'max',
    op: 'gt' | 'lt',
    threshold: number,
    noData: AlertRule['noDataState'],
    summary: string,
  ): AlertRule => ({
    uid: stableUid(`fl-${kind}`, role),
    title: provisioningLiteral(`${role}: ${title}`),
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: WINDOW_SECONDS, to: 0 },
        datasourceUid: ds,
        model: { refId: 'A', rawQuery: true, resultFormat: 'time_series', query },
      },
      {
        refId: 'B',
        datasourceUid: '__expr__',
        model: {
          refId: 'B',
          type: 'reduce',
          expression: 'A',
          reducer,
          settings: { mode: 'dropNN' },
        },
      },
      {
        refId: 'C',
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          type: 'threshold',
          expression: 'B',
          conditions: [{ evaluator: { type: op, params: [threshold] } }],
        },
      },
    ],
    noDataState: noData,
    execErrState: 'Error',
    for: '5m',
    annotations: {
      summary: annotationText(summary),
      description: `Role-level rule on fleetline rollups; threshold ${threshold}.`,
      // Relative to Grafana's root URL; a rule annotation is not templated into a full URL.
      dashboard_url: `/d/${dashboard}`,
    },
    labels: { role: provisioningLiteral(role), source: 'fleetline', signal: kind },
    isPaused: false,
  });
  return [
    rule(
      'err',
      'error ratio high',
      errorRatioQuery(cat, scope),
      'mean',
      'gt',
      t.error_ratio,
      // No requests is not an error; members-low catches a dead role.
      'OK',
      `Error ratio of role ${role} above ${t.error_ratio}`,
    ),
    rule(
      'p95',
      `${cat.numericFields[0]} p95 high`,
      latencyQuery(cat, scope),
      'max',
      'gt',
      t.p95_latency,
      'OK',
      `p95 ${cat.numericFields[0]} of role ${role} above ${t.p95_latency}`,
    ),
    rule(
      'mem',
      'members below expected',
      roleMembersQuery(where, cat.rollupInterval),
      'last',
      'lt',
      t.min_members,
      // No member points at all means nothing of this role is reporting: that is the alert.
      'Alerting',
      `Role ${role} has fewer than ${t.min_members} live members`,
    ),
  ];
}
