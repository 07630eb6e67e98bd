/** `spool:`, `schema:`, `rollup:` and `lifecycle:` — delivery and what lands in InfluxDB. */
import { Type } from '@sinclair/typebox';
import { Duration, Section } from './common.ts';

export const SpoolSection = Section(
  {
    max_bytes: Type.Integer({
      minimum: 1024 * 1024,
      default: 1024 * 1024 * 1024,
      description: 'spool size at which inputs are pushed back',
    }),
    commit_interval: Duration(
      '5ms',
      'group-commit window: batches arriving within it share a commit',
    ),
  },
  'durable spool',
);

export const SchemaSection = Section(
  {
    routes: Type.Array(
      Type.Object(
        {
          match: Type.String({ minLength: 1, description: 'fluentd tag glob, e.g. app.access.**' }),
          measurement: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'tag → measurement; unmatched tags become the measurement' },
    ),
    tag_keys: Type.Array(Type.String({ minLength: 1 }), {
      default: ['level', 'status', 'method'],
      description: 'low-cardinality record keys written as InfluxDB tags',
    }),
  },
  'how entries become InfluxDB points',
);

export const RollupSection = Section(
  {
    interval: Duration('10s', 'rollup interval'),
    numeric_fields: Type.Array(Type.String({ minLength: 1 }), {
      default: ['reqtime'],
      description: 'record fields summarised as count/sum/mean/max/p50/p95/p99',
    }),
    retention: Duration('7d', 'how long rollups are kept in the embedded store'),
    lateness: Duration('2m', 'how long an interval stays open for late entries in memory'),
  },
  'role rollups',
);

export const LifecycleSection = Section(
  {
    idle_terminate: Duration('0s', 'treat an instance silent this long as gone (0 = never)'),
  },
  'lifecycle tracking',
);
