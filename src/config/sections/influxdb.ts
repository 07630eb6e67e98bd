/** `influxdb:` the InfluxDB sink. Absent means no InfluxDB (embedded default). */
import { Type } from '@sinclair/typebox';
import { Duration, Section, Span } from './common.ts';

/**
 * Bounds of the dead-letter table. A client that keeps sending a field-type conflict produces a
 * dead letter per point; 100,000 rows is days of evidence for a handful of distinct mistakes and
 * stays a fast table to page through; 64 MiB holds that many lines of typical size (≈600 bytes)
 * while a few oversized lines cannot fill the disk; 7 days is a week's evidence to find the
 * sender, the same as `rollup.retention`.
 */
export const DEAD_LETTER_LIMITS = { max_rows: 100_000, max_bytes: 64 * 1024 * 1024, max_age: '7d' };

/**
 * Bounds of the catalog (what the dashboard generator builds panels from). Telegraf's busiest
 * inputs write tens of fields and under twenty tag keys per measurement; the rollup's
 * `fleet_rollup` has 7 fields per configured numeric field plus levels and status classes.
 * Names beyond these are generated keys (a field per request id), which no dashboard can use.
 */
export const CATALOG_LIMITS = { max_measurements: 1000, max_fields: 1000, max_tag_keys: 100 };

export const InfluxdbSection = Type.Optional(
  Type.Object(
    {
      url: Type.String({ format: 'uri', pattern: '^https?://', description: 'base URL' }),
      api: Type.Union([Type.Literal('v1'), Type.Literal('v2')], {
        default: 'v1',
        description: 'v1 = /write + /query (1.x, 2.x compat, 3.x); v2 = /api/v2/write',
      }),
      database: Type.String({ minLength: 1, default: 'fleetline', description: 'v1 database' }),
      retention_policy: Type.Optional(Type.String({ minLength: 1, description: 'v1 rp' })),
      org: Type.Optional(Type.String({ minLength: 1, description: 'v2 organisation' })),
      bucket: Type.Optional(Type.String({ minLength: 1, description: 'v2 bucket' })),
      token: Type.Optional(Type.String({ minLength: 1, description: 'API token (Token scheme)' })),
      username: Type.Optional(Type.String({ minLength: 1, description: 'v1 basic auth user' })),
      password: Type.Optional(Type.String({ minLength: 1, description: 'v1 basic auth password' })),
      create_database: Type.Boolean({
        default: true,
        description:
          "create the target when missing, at start and on a 404: v1 CREATE DATABASE; v2 POST /api/v2/buckets (in `org`, or the token's only organisation)",
      }),
      batch_lines: Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: 5000,
        description: 'lines per write request (a body is also cut at 8 MiB)',
      }),
      concurrency: Type.Integer({
        minimum: 1,
        maximum: 16,
        default: 2,
        description:
          'write requests in flight at once, across the two spool deliveries the writer works on together',
      }),
      gzip: Type.Optional(
        Type.Boolean({
          description:
            'gzip write bodies; unset = on, except for a loopback URL (localhost, 127.0.0.0/8, ' +
            '[::1]) where it only costs CPU on both sides of a link with no bandwidth to save',
        }),
      ),
      timeout: Duration('30s', 'per-request timeout', { min: '1ms' }),
      min_retry_delay: Duration('250ms', 'first delay of the exponential retry backoff', {
        min: '1ms',
      }),
      max_retry_delay: Duration('60s', 'upper bound of the exponential retry backoff', {
        min: '1ms',
      }),
      dead_letters: Type.Optional(
        Section(
          {
            max_rows: Type.Integer({
              minimum: 1,
              default: DEAD_LETTER_LIMITS.max_rows,
              description: 'dead letters kept; beyond it the least recently refused are pruned',
            }),
            max_bytes: Type.Integer({
              minimum: 1024,
              default: DEAD_LETTER_LIMITS.max_bytes,
              description:
                'bytes of line + reason kept (the table and its index take about twice that on disk); beyond it the least recently refused are pruned (the newest one is always kept)',
            }),
            max_age: Span(
              DEAD_LETTER_LIMITS.max_age,
              'dead letters not refused again for this long are pruned (checked every minute)',
              { min: '1m' },
            ),
          },
          'bounds of the dead-letter table (GET /api/dead-letters); pruned lines are counted in fleetline_influxdb_dead_letters_pruned_total and logged',
        ),
      ),
      catalog: Type.Optional(
        Section(
          {
            max_measurements: Type.Integer({
              minimum: 1,
              default: CATALOG_LIMITS.max_measurements,
              description:
                "measurements recorded (fleetline's own fleet_rollup / fleet_members / fleet_events always are)",
            }),
            max_fields: Type.Integer({
              minimum: 1,
              default: CATALOG_LIMITS.max_fields,
              description:
                'fields recorded per measurement (fleet_rollup, fleet_members and fleet_events keep at least the default)',
            }),
            max_tag_keys: Type.Integer({
              minimum: 1,
              default: CATALOG_LIMITS.max_tag_keys,
              description:
                'tag keys recorded per measurement (fleet_rollup, fleet_members and fleet_events keep at least the default)',
            }),
          },
          'bounds of the catalog of measurements / tag keys / fields the dashboards are generated from; names beyond them are still written to InfluxDB, only not recorded (counted in fleetline_influxdb_catalog_names_refused_total, logged once per measurement)',
        ),
      ),
    },
    { additionalProperties: false, description: 'InfluxDB sink (optional)' },
  ),
);
