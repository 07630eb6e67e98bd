/** `grafana:` generated dashboards, alert rules and the optional HTTP API push. */
import { Type } from '@sinclair/typebox';
import { Duration, Section } from './common.ts';

const Thresholds = Type.Object(
  {
    error_ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    p95_latency: Type.Optional(Type.Number({ minimum: 0 })),
    min_members: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const GrafanaSection = Section(
  {
    url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://' })),
    token: Type.Optional(Type.String({ minLength: 1, description: 'service-account token' })),
    folder_uid: Type.String({ minLength: 1, maxLength: 40, default: 'fleetline' }),
    folder_title: Type.String({ minLength: 1, default: 'fleetline' }),
    datasource_uid: Type.String({ minLength: 1, default: 'fleetline-influxdb' }),
    out_dir: Type.String({ minLength: 1, default: 'dashboards' }),
    regenerate: Type.Boolean({ default: false, description: 'service rewrites files on changes' }),
    regenerate_interval: Duration(
      '5s',
      'how often the service checks whether roles/catalog changed',
      { min: '1ms' },
    ),
    provisioning_path: Type.String({
      minLength: 1,
      default: '/var/lib/grafana/dashboards/fleetline',
      description: 'where Grafana reads the dashboard JSON (dashboards.yaml options.path)',
    }),
    push_annotations: Type.Boolean({ default: false }),
    alerts: Section(
      {
        defaults: Type.Object(
          {
            error_ratio: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
            p95_latency: Type.Number({ minimum: 0, default: 1 }),
            min_members: Type.Integer({ minimum: 0, default: 1 }),
          },
          { additionalProperties: false, default: {} },
        ),
        roles: Type.Record(Type.String(), Thresholds, { default: {} }),
      },
      'alert thresholds',
    ),
  },
  'Grafana artefacts',
);
