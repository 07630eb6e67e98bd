/** `influxdb:` the InfluxDB sink. Absent means no InfluxDB (embedded default). */
import { Type } from '@sinclair/typebox';
import { Duration } from './common.ts';

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
    },
    { additionalProperties: false, description: 'InfluxDB sink (optional)' },
  ),
);
