/** `spool:`, `schema:`, `rollup:` and `lifecycle:` — delivery and what lands in InfluxDB. */
import { Type } from '@sinclair/typebox';
import { Duration, Section, Span } from './common.ts';

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
    synchronous: Type.Union([Type.Literal('normal'), Type.Literal('full')], {
      default: 'normal',
      description:
        'SQLite synchronous mode: normal survives kill -9 (WAL); full also survives power loss (fsync per commit)',
    }),
    backpressure_timeout: Duration(
      '30s',
      'how long consume waits for room in a full spool before rejecting (retryable)',
    ),
    retry_initial: Duration('100ms', 'first retry delay after a consumer delivery fails', {
      min: '1ms',
    }),
    retry_max: Duration('30s', 'cap of the exponential delivery retry delay', { min: '1ms' }),
    delivery_max_entries: Type.Integer({
      minimum: 1,
      default: 5000,
      description: 'entries offered to a consumer per deliver call (at least one batch)',
    }),
    delivery_max_bytes: Type.Integer({
      minimum: 1024,
      default: 16 * 1024 * 1024,
      description: 'encoded bytes offered to a consumer per deliver call (at least one batch)',
    }),
    stop_timeout: Duration('10s', 'how long stop() waits for in-flight deliveries to finish'),
    memory_cache_entries: Type.Integer({
      minimum: 0,
      default: 100_000,
      description:
        'recently committed entries kept in memory so consumers that keep up skip decoding (0 = off); also capped at max_bytes / 16 of encoded batches',
    }),
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
      description:
        'low-cardinality record keys written as InfluxDB tags (a string value longer than 256 characters stays a field)',
    }),
  },
  'how entries become InfluxDB points',
);

export const RollupSection = Section(
  {
    interval: Span('10s', 'rollup interval', { min: '1ms' }),
    numeric_fields: Type.Array(Type.String({ minLength: 1 }), {
      default: ['reqtime'],
      description: 'record fields summarised as count/sum/mean/max/p50/p95/p99',
    }),
    retention: Span(
      '7d',
      'how long rollups are kept in the embedded store (must exceed interval + grace + lateness; entries further than this ahead of the clock are not rolled up)',
    ),
    lateness: Span('2m', 'how long an interval stays open for late entries in memory'),
    grace: Span('2s', 'wait after an interval ends before emitting its points'),
  },
  'role rollups',
);

export const LifecycleSection = Section(
  {
    idle_terminate: Span('0s', 'treat an instance silent this long as gone (0 = never)'),
  },
  'lifecycle tracking',
);
