import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { fluentdRoutes } from '../../src/ingest/http/fluentd-routes.ts';
import { influxWriteRoutes } from '../../src/ingest/http/influx-write-routes.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { testDeps } from '../helpers/deps.ts';
import { type RecordingSink, recordingSink } from '../helpers/recording-sink.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(opts: { maxBodyBytes?: number; maxEntriesPerRequest?: number } = {}) {
  const deps = testDeps();
  const sink: RecordingSink = recordingSink();
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const limits = {
    downstream: sink,
    maxBodyBytes,
    ...(opts.maxEntriesPerRequest ? { maxEntriesPerRequest: opts.maxEntriesPerRequest } : {}),
  };
  const server = createHttpServer(
    { bind: '127.0.0.1', port: 0, max_body_bytes: maxBodyBytes },
    deps,
    { readiness: [], routes: [fluentdRoutes(deps, limits), influxWriteRoutes(deps, limits)] },
  );
  servers.push(server);
  await server.start();
  const post = async (path: string, body: string | Uint8Array, type: string, gzip = false) => {
    const res = await fetch(`${server.url()}${path}`, {
      method: 'POST',
      body: (gzip ? gzipSync(body) : body) as BodyInit,
      headers: { 'content-type': type, ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    });
    const text = await res.text();
    return { status: res.status, text };
  };
  return { sink, post };
}

const lines = (n: number, make: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => make(i)).join('\n');

describe('HTTP inputs › entries per request', () => {
  it('refuse more records than maxEntriesPerRequest in every fluentd format, storing none', async () => {
    const h = await start({ maxEntriesPerRequest: 3 });
    const four = [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }];
    const bodies: [string, string | Uint8Array][] = [
      ['application/json', JSON.stringify(four)],
      ['application/x-ndjson', four.map((r) => JSON.stringify(r)).join('\n')],
      ['application/msgpack', encode(four)],
      ['application/msgpack', Buffer.concat(four.map((r) => encode(r)))],
    ];
    for (const [type, body] of bodies) {
      const res = await h.post('/fluentd/app', body, type);
      expect(res.status, type).toBe(413);
      expect(res.text).toMatch(/more than 3 records in one request/);
    }
    expect(h.sink.entries()).toEqual([]);
    const ok = await h.post('/fluentd/app', JSON.stringify(four.slice(0, 3)), 'application/json');
    expect(ok.status).toBe(200);
    expect(h.sink.entries()).toHaveLength(3);
  });

  it('refuse more points than maxEntriesPerRequest on /write and /api/v2/write, storing none', async () => {
    const h = await start({ maxEntriesPerRequest: 3 });
    const v1 = await h.post(
      '/write?db=x',
      lines(4, (i) => `m v=${i} ${i}`),
      'text/plain',
    );
    expect(v1.status).toBe(413);
    expect(JSON.parse(v1.text).error).toMatch(/more than 3 points in one request/);
    const v2 = await h.post(
      '/api/v2/write?bucket=x',
      lines(5, (i) => `m v=${i}`),
      'text/plain',
    );
    expect(v2.status).toBe(413);
    expect(h.sink.entries()).toEqual([]);
    // Bad lines do not count; the valid ones within the limit are still a partial write.
    const partial = await h.post(
      '/write?db=x',
      `${lines(3, (i) => `m v=${i} ${i}`)}\nbad\nbad`,
      'text/plain',
    );
    expect(partial.status).toBe(400);
    expect(h.sink.entries()).toHaveLength(3);
  });

  // A 1 MB body of empty msgpack maps (a few KB gzipped) decoded to a million records; at the
  // 16 MB default body limit it took 1.5 GB before anything downstream.
  it('cap a request at 1,000,000 entries by default, like Forward', async () => {
    const h = await start({ maxBodyBytes: 4 * 1024 * 1024 });
    const maps = Buffer.alloc(1_000_001, 0x80);
    const res = await h.post('/fluentd/app', maps, 'application/msgpack', true);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/more than 1000000 records in one request/);
    const points = await h.post('/write?db=x', 'm v=1\n'.repeat(1_000_001), 'text/plain', true);
    expect(points.status).toBe(413);
    expect(h.sink.entries()).toEqual([]);
  }, 30_000);
});

describe('HTTP inputs › large msgpack arrays', () => {
  // records.push(...array) overflowed the stack past ~120k records: a valid body was a 400.
  it('takes an msgpack array of 200,000 records', async () => {
    const h = await start({ maxBodyBytes: 4 * 1024 * 1024 });
    const body = encode(Array.from({ length: 200_000 }, (_, i) => ({ i })));
    const res = await h.post('/fluentd/app', body, 'application/msgpack');
    expect(res.status).toBe(200);
    expect(h.sink.entries()).toHaveLength(200_000);
  }, 30_000);
});

describe('HTTP inputs › deeply nested records', () => {
  it('answers 400 (not a retryable 500) for a JSON record nested thousands of levels', async () => {
    const h = await start();
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const res = await h.post('/fluentd/app', deep, 'application/json');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/nest/);
    expect(h.sink.entries()).toEqual([]);
  });
});
