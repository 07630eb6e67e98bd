import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InfluxdbConfig } from '../../src/config/schema.ts';
import { InfluxWriterStoppedError } from '../../src/sinks/influxdb/errors.ts';
import { toLines } from '../../src/sinks/influxdb/points.ts';
import { createInfluxWriter, type InfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type InfluxV2Endpoint, startInfluxV2Endpoint } from '../helpers/influx-v2-endpoint.ts';
import {
  capturedLog,
  logEntries,
  SCHEMA,
  settlesWithin,
  spooledBatch,
  tempStore,
  writerConfig,
} from '../sinks/influxdb/writer-fixture.ts';

describe('InfluxDB writer over the v2 write API (HTTP double)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let endpoint: InfluxV2Endpoint;
  const writers: InfluxWriter[] = [];

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
    endpoint = await startInfluxV2Endpoint({ token: 'secret', org: 'acme', bucket: 'logs' });
  });
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.stop();
    await endpoint.close();
    await cleanup();
  });

  const start = async (over: Partial<InfluxdbConfig> = {}, deps = testDeps()) => {
    const w = createInfluxWriter(
      writerConfig({
        url: endpoint.url,
        api: 'v2',
        org: 'acme',
        bucket: 'logs',
        token: 'secret',
        ...over,
      }),
      SCHEMA,
      deps,
      { store },
    );
    writers.push(w);
    await w.start();
    return w;
  };

  it('posts gzip line protocol to /api/v2/write with org, bucket, precision=ns and a Token header', async () => {
    const w = await start({ batch_lines: 4 });
    const batch = spooledBatch(logEntries(10), 1, 100);
    await w.deliver([batch]);
    expect(endpoint.requests).toHaveLength(3);
    for (const r of endpoint.requests) {
      expect(r.path).toBe('/api/v2/write');
      expect(Object.fromEntries(r.query)).toEqual({ org: 'acme', bucket: 'logs', precision: 'ns' });
      expect(r.headers.authorization).toBe('Token secret');
      expect(r.headers['content-encoding']).toBe('gzip');
    }
    expect(endpoint.lines()).toEqual(toLines(batch, SCHEMA));
  });

  it('honours Retry-After on 503 and 429 before sending again', async () => {
    const deps = testDeps();
    const w = await start({ gzip: false, max_retry_delay: '5s' }, deps);
    endpoint.respondNext({ status: 503, retryAfter: '1' }, { status: 429, retryAfter: '1' });
    await w.deliver([spooledBatch(logEntries(3), 1, 0)]);
    const [a, b, c] = endpoint.requests;
    expect([a?.status, b?.status, c?.status]).toEqual([503, 429, 204]);
    // min_retry_delay is 50 ms: only the header can explain a one-second wait.
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(990);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(990);
    expect(endpoint.lines()).toHaveLength(3);
    expect(await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: '503' })).toBe(1);
    expect(await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: '429' })).toBe(1);
  });

  it('caps a long Retry-After at max_retry_delay', async () => {
    const w = await start({ gzip: false, max_retry_delay: '200ms' });
    endpoint.respondNext({ status: 503, retryAfter: '3600' });
    const started = Date.now();
    await w.deliver([spooledBatch(logEntries(1), 1, 0)]);
    // Uncapped, the wait would be an hour; the bound leaves room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(endpoint.lines()).toHaveLength(1);
  });

  it('retries a 401 with a log line naming the credentials, and never drops the data', async () => {
    const deps = testDeps();
    const { log, lines } = capturedLog();
    const w = await start({ token: 'wrong' }, { ...deps, log });
    const pending = w.deliver([spooledBatch(logEntries(2), 1, 0)]);
    expect(await settlesWithin(pending, 300)).toBe(false);
    expect(endpoint.requests.every((r) => r.status === 401)).toBe(true);
    expect(
      await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: '401' }),
    ).toBeGreaterThanOrEqual(2);
    const retry = lines.find((l) => l.event === 'influxdb_write_retry');
    expect(retry?.status).toBe(401);
    expect(String(retry?.msg)).toContain('unauthorized: unauthorized access');
    expect(String(retry?.msg)).toContain('check influxdb.username/password/token');
    await w.stop();
    await expect(pending).rejects.toBeInstanceOf(InfluxWriterStoppedError);
  });

  it('dead-letters a line the v2 API refuses with 400 and writes its neighbour', async () => {
    const w = await start({ gzip: false });
    endpoint.respondNext(
      { status: 400, message: 'unable to parse line 1' },
      { status: 400, message: 'unable to parse line 1' },
    );
    const batch = spooledBatch(logEntries(2), 1, 0);
    await w.deliver([batch]);
    const [bad, good] = toLines(batch, SCHEMA);
    expect(endpoint.lines()).toEqual([good]);
    expect(w.deadLetters().map((d) => [d.line, d.reason])).toEqual([
      [bad, 'invalid: unable to parse line 1'],
    ]);
  });

  it('sends v1 basic auth as Authorization: Basic base64(user:password) to /write', async () => {
    const w = await start({
      api: 'v1',
      database: 'metrics',
      retention_policy: 'raw',
      username: 'fleet',
      password: 'p:ss wörd',
      token: undefined,
      create_database: false,
      gzip: false,
    });
    const pending = w.deliver([spooledBatch(logEntries(1), 1, 0)]);
    await settlesWithin(pending, 100);
    const r = endpoint.requests[0]!;
    expect(r.path).toBe('/write');
    expect(Object.fromEntries(r.query)).toEqual({ db: 'metrics', rp: 'raw', precision: 'ns' });
    expect(r.headers.authorization).toBe(
      `Basic ${Buffer.from('fleet:p:ss wörd').toString('base64')}`,
    );
    await w.stop();
    await expect(pending).rejects.toBeInstanceOf(InfluxWriterStoppedError);
  });

  it('gives up on a request after timeout and sends it again', async () => {
    const deps = testDeps();
    const w = await start({ timeout: '200ms', gzip: false }, deps);
    endpoint.respondNext({ status: 204, delayMs: 1000 });
    await w.deliver([spooledBatch(logEntries(2), 1, 0)]);
    expect(await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: 'timeout' })).toBe(
      1,
    );
    expect(endpoint.requests.at(-1)?.status).toBe(204);
  });

  it('dead-letters a single line answered with 413 (too large) after splitting the body', async () => {
    const w = await start({ gzip: false });
    endpoint.respondNext({ status: 413 }, { status: 413 });
    const batch = spooledBatch(logEntries(2), 1, 0);
    await w.deliver([batch]);
    expect(endpoint.lines()).toEqual([toLines(batch, SCHEMA)[1]]);
    expect(w.deadLetters().map((d) => d.reason)).toEqual(['request too large: request too large']);
  });

  it('keeps the lifecycle contract: stop before start is a no-op, stop is idempotent, deliver needs start', async () => {
    const w = createInfluxWriter(
      writerConfig({ url: endpoint.url, api: 'v2', org: 'acme', bucket: 'logs', token: 'secret' }),
      SCHEMA,
      testDeps(),
      { store },
    );
    await expect(w.deliver([spooledBatch(logEntries(1), 1, 0)])).rejects.toBeInstanceOf(
      InfluxWriterStoppedError,
    );
    await w.stop();
    await w.stop();
    const started = await start();
    await Promise.all([started.stop(), started.stop()]);
    expect(endpoint.requests).toEqual([]);
  });
});
