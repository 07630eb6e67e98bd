/**
 * `influxdb.create_database` with the v2 API: the writer creates its bucket through
 * `POST /api/v2/buckets` (organisation looked up by name), at start and again when a write
 * answers 404, and treats "already exists" as done. Against the v2 endpoint double, which
 * speaks the documented wire format (InfluxDB 2.x cannot run here).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InfluxdbConfig } from '../../../src/config/schema.ts';
import type { InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';
import { type InfluxV2Endpoint, startInfluxV2Endpoint } from '../../helpers/influx-v2-endpoint.ts';
import {
  capturedLog,
  logEntries,
  spooledBatch,
  startV2Writer,
  tempStore,
} from './writer-fixture.ts';

describe('InfluxDB writer: v2 bucket creation', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let endpoint: InfluxV2Endpoint | undefined;
  let writer: InfluxWriter | undefined;

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterEach(async () => {
    await writer?.stop();
    await endpoint?.close();
    await cleanup();
  });

  const start = async (
    ep: InfluxV2Endpoint,
    over: Partial<InfluxdbConfig> = {},
    deps = testDeps(),
  ) => {
    writer = await startV2Writer(ep.url, store, over, deps);
    return writer;
  };
  const admin = (ep: InfluxV2Endpoint) =>
    ep.adminRequests.map(
      (r) => `${r.method} ${r.path}${r.query.size ? `?${r.query}` : ''} ${r.status}`,
    );

  it('creates a missing bucket at start in the named organisation, then writes to it', async () => {
    endpoint = await startInfluxV2Endpoint({
      token: 'secret',
      org: 'acme',
      bucket: 'logs',
      bucketExists: false,
    });
    const deps = testDeps();
    const w = await start(endpoint, {}, deps);
    expect(admin(endpoint)).toEqual(['GET /api/v2/orgs?org=acme 200', 'POST /api/v2/buckets 201']);
    expect(JSON.parse(endpoint.adminRequests[1]!.body)).toEqual({
      orgID: '0a1b2c3d4e5f6071',
      name: 'logs',
      retentionRules: [],
    });
    expect(endpoint.adminRequests[1]!.headers.authorization).toBe('Token secret');
    expect(endpoint.buckets()).toEqual(['logs']);
    expect(await metricValue(deps, 'fleetline_influxdb_database_created_total')).toBe(1);

    await w.deliver([spooledBatch(logEntries(10), 1, 0)]);
    expect(endpoint.lines()).toHaveLength(10);
  });

  it('takes "already exists" as done: no warning, writes go ahead', async () => {
    endpoint = await startInfluxV2Endpoint({ token: 'secret', org: 'acme', bucket: 'logs' });
    const { log, lines } = capturedLog();
    const deps = { ...testDeps(), log };
    const w = await start(endpoint, {}, deps);
    expect(admin(endpoint)).toEqual(['GET /api/v2/orgs?org=acme 200', 'POST /api/v2/buckets 422']);
    expect(lines.filter((l) => l.event === 'influxdb_create_database_failed')).toEqual([]);
    expect(await metricValue(deps, 'fleetline_influxdb_database_created_total')).toBe(0);
    await w.deliver([spooledBatch(logEntries(3), 1, 0)]);
    expect(endpoint.lines()).toHaveLength(3);
  });

  it('re-creates the bucket when a write answers 404 (bucket deleted while running) and delivers', async () => {
    endpoint = await startInfluxV2Endpoint({ token: 'secret', org: 'acme', bucket: 'logs' });
    const w = await start(endpoint);
    endpoint.dropBucket('logs');
    await w.deliver([spooledBatch(logEntries(5), 1, 0)]);
    expect(endpoint.requests.map((r) => r.status)).toEqual([404, 204]);
    expect(admin(endpoint).slice(2)).toEqual([
      'GET /api/v2/orgs?org=acme 200',
      'POST /api/v2/buckets 201',
    ]);
    expect(endpoint.lines()).toHaveLength(5);
  });

  it('says clearly why it could not create the bucket (unknown organisation) and keeps the data for retries', async () => {
    endpoint = await startInfluxV2Endpoint({
      token: 'secret',
      org: 'acme',
      bucket: 'logs',
      bucketExists: false,
    });
    const { log, lines } = capturedLog();
    await start(endpoint, { org: 'other' }, { ...testDeps(), log });
    const warning = lines.find((l) => l.event === 'influxdb_create_database_failed');
    expect(warning?.msg).toMatch(
      /could not create InfluxDB bucket logs at start \(404 .*organization name "other" not found/,
    );
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('leaves buckets alone when create_database is off', async () => {
    endpoint = await startInfluxV2Endpoint({ token: 'secret', org: 'acme', bucket: 'logs' });
    const w = await start(endpoint, { create_database: false });
    await w.deliver([spooledBatch(logEntries(2), 1, 0)]);
    expect(endpoint.adminRequests).toEqual([]);
    expect(endpoint.lines()).toHaveLength(2);
  });
});
