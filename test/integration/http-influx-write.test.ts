import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { HttpError, InfluxDB, Point, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CapacityProbe } from '../../src/core/consumer.ts';
import { BackpressureError } from '../../src/core/errors.ts';
import { influxWriteRoutes } from '../../src/ingest/http/influx-write-routes.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type RecordingSink, recordingSink } from '../helpers/recording-sink.ts';

const MAX = 64 * 1024;
const TOKEN = 'influx-token-123';

interface Harness {
  server: HttpServer;
  sink: RecordingSink;
  deps: ReturnType<typeof testDeps>;
  post(
    path: string,
    body: string | Uint8Array,
    headers?: Record<string, string>,
  ): Promise<Response>;
  writeApi(opts?: { v1Path?: string; gzip?: boolean; token?: string }): WriteApi;
}

// The client logs every failed write to the console; the tests assert the errors instead.
let previousLogger: ReturnType<typeof setLogger>;
beforeAll(() => {
  previousLogger = setLogger({ error: () => {}, warn: () => {} });
});
afterAll(() => {
  setLogger(previousLogger);
});

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(opts: { capacity?: CapacityProbe } = {}): Promise<Harness> {
  const deps = testDeps();
  const sink = recordingSink();
  const server = createHttpServer(
    { bind: '127.0.0.1', port: 0, max_body_bytes: MAX, token: TOKEN },
    deps,
    {
      readiness: [],
      routes: [
        influxWriteRoutes(deps, { downstream: sink, capacity: opts.capacity, maxBodyBytes: MAX }),
      ],
    },
  );
  servers.push(server);
  await server.start();
  return {
    server,
    sink,
    deps,
    post: (path, body, headers = {}) =>
      fetch(`${server.url()}${path}`, {
        method: 'POST',
        body: body as BodyInit,
        headers: { authorization: `Token ${TOKEN}`, ...headers },
      }),
    writeApi({ v1Path, gzip = false, token = TOKEN } = {}) {
      const api = new InfluxDB({ url: server.url(), token }).getWriteApi('acme', 'metrics', 'ns', {
        flushInterval: 0,
        maxRetries: 0,
        gzipThreshold: gzip ? 0 : 1_000_000,
      });
      // The JS client only speaks v2; pointing its path at /write exercises the v1 endpoint.
      if (v1Path) (api as unknown as { path: string }).path = v1Path;
      return api;
    },
  };
}

function points(): Point[] {
  return [
    new Point('http requests')
      .tag('host', 'web 1,a=b')
      .tag('path', 'C:\\dir')
      .floatField('reqtime', 0.25)
      .intField('status', 200)
      .uintField('bytes', '18446744073709551615')
      .booleanField('ok', true)
      .stringField('msg', 'said "hi" \\o/\nbye')
      .timestamp('1700000000123456789'),
    new Point('cpu')
      .tag('cpu', 'cpu-total')
      .floatField('usage', 1.5)
      .timestamp('1700000001000000001'),
  ];
}

describe('InfluxDB write input', () => {
  it('accepts the real influxdb-client WriteApi on /api/v2/write, tags/fields/ns time exact', async () => {
    const h = await start();
    for (const gzip of [false, true]) {
      const api = h.writeApi({ gzip });
      api.writePoints(points());
      await api.close();
    }
    const entries = h.sink.entries();
    expect(entries).toHaveLength(4);
    expect(entries[0]).toEqual({
      tag: 'http requests',
      tags: { host: 'web 1,a=b', path: 'C:\\dir' },
      record: {
        reqtime: 0.25,
        status: 200n,
        bytes: 18446744073709551615n,
        ok: true,
        msg: 'said "hi" \\o/\nbye',
      },
      sec: 1700000000,
      nsec: 123456789,
    });
    expect(entries[1]).toMatchObject({ tag: 'cpu', sec: 1700000001, nsec: 1 });
    expect(entries[2]).toEqual(entries[0]);
    expect(h.sink.batches[0]?.origin).toEqual({
      input: 'influx-v2',
      database: 'metrics',
      peerAddress: '127.0.0.1',
    });
    expect(
      await metricValue(h.deps, 'fleetline_http_entries_accepted_total', { input: 'influx-v2' }),
    ).toBe(4);
  });

  it('accepts the same client on the v1 /write endpoint', async () => {
    const h = await start();
    const api = h.writeApi({ v1Path: '/write?db=telegraf&rp=autogen&precision=ns&u=x&p=y' });
    api.writePoints(points());
    await api.close();
    expect(h.sink.entries()[0]).toMatchObject({
      tag: 'http requests',
      sec: 1700000000,
      nsec: 123456789,
    });
    expect(h.sink.batches[0]?.origin).toMatchObject({ input: 'influx-v1', database: 'telegraf' });
  });

  it('reads a Telegraf-style body with every escape case', async () => {
    const h = await start();
    const body = [
      '# telegraf output',
      String.raw`weather\ station\,eu,location=us\,midwest,se\=nsor\ id=a\ b temp\ c=82.5,desc="he said \"hi\" \\o/",count=3i,ok=T,raw="c:\\x\y" 1465839830100400200`,
      String.raw`disk,path=C:\dir\sub,fstype=ext4 used_percent=42.1,inodes=18446744073709551615u,free=-9007199254740993i 1465839830100400201`,
      String.raw`m\=eq,tag\\k=v\n field="multi`,
      'line" 1465839830100400202',
      '',
    ].join('\r\n');
    const res = await h.post('/write?db=telegraf', body, {
      'content-type': 'text/plain; charset=utf-8',
    });
    expect(await res.text()).toBe('');
    expect(res.status).toBe(204);
    expect(h.sink.entries()).toEqual([
      {
        tag: 'weather station,eu',
        tags: { location: 'us,midwest', 'se=nsor id': 'a b' },
        record: { 'temp c': 82.5, desc: 'he said "hi" \\o/', count: 3n, ok: true, raw: 'c:\\x\\y' },
        sec: 1465839830,
        nsec: 100400200,
      },
      {
        tag: 'disk',
        tags: { path: 'C:\\dir\\sub', fstype: 'ext4' },
        record: { used_percent: 42.1, inodes: 18446744073709551615n, free: -9007199254740993n },
        sec: 1465839830,
        nsec: 100400201,
      },
      {
        tag: 'm\\=eq',
        tags: { 'tag\\\\k': 'v\\n' },
        record: { field: 'multi\r\nline' },
        sec: 1465839830,
        nsec: 100400202,
      },
    ]);
  });

  it.each([
    ['/write?db=d&precision=s', '1700000000', 1700000000, 0],
    ['/write?db=d&precision=ms', '1700000000123', 1700000000, 123000000],
    ['/write?db=d&precision=u', '1700000000123456', 1700000000, 123456000],
    ['/write?db=d&precision=h', '472222', 1699999200, 0],
    ['/write?db=d&precision=m', '28333333', 1699999980, 0],
    ['/write?db=d&precision=%C2%B5', '1700000000123456', 1700000000, 123456000],
    ['/write?db=d&precision=n', '1700000000123456789', 1700000000, 123456789],
    ['/api/v2/write?bucket=b&precision=us', '1700000000123456', 1700000000, 123456000],
    ['/api/v2/write?bucket=b&precision=s', '1700000000', 1700000000, 0],
  ])('honours %s', async (path, ts, sec, nsec) => {
    const h = await start();
    expect((await h.post(path, `m v=1 ${ts}`)).status).toBe(204);
    expect(h.sink.entries()[0]).toMatchObject({ sec, nsec });
  });

  it('stores the valid lines and answers v1 400 {"error"} naming each bad line', async () => {
    const h = await start();
    const res = await h.post(
      '/write?db=d',
      'web reqtime=1 1\nweb reqtime=x 2\nweb reqtime=3 3\nweb\n',
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toBe(
      'partial write: 2 line(s) rejected, 2 accepted: line 2: invalid field value "x" for key reqtime; line 4: missing fields',
    );
    expect(res.headers.get('x-influxdb-error')).toContain('line 2: invalid field value');
    expect(h.sink.entries().map((e) => e.record.reqtime)).toEqual([1, 3]);
  });

  it('answers v2 400 {"code":"invalid","message"} that the JS client surfaces', async () => {
    const h = await start();
    const res = await h.post('/api/v2/write?bucket=b', 'cpu usage=tru 1');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 'invalid',
      message: 'unable to parse: line 1: invalid field value "tru" for key usage',
    });
    expect(h.sink.entries()).toEqual([]);

    const api = h.writeApi();
    api.writeRecord('cpu usage=tru 1');
    const err = await api.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).statusCode).toBe(400);
    expect((err as HttpError).message).toContain('line 1: invalid field value "tru" for key usage');
  });

  it.each([
    ['/write', 400, { error: 'database is required' }],
    ['/api/v2/write?org=o', 400, { code: 'invalid', message: 'bucket is required' }],
    [
      '/write?db=d&precision=fortnights',
      400,
      { error: 'invalid precision "fortnights" (use n, ns, u, µ, us, ms, s, m or h)' },
    ],
    [
      '/api/v2/write?bucket=b&precision=h',
      400,
      { code: 'invalid', message: 'invalid precision "h" (use ns, us, ms or s)' },
    ],
  ])('rejects %s with %i', async (path, status, body) => {
    const h = await start();
    const res = await h.post(path, 'm v=1');
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  it('answers 413 over the limit, plain and as a gzip bomb, in each API shape', async () => {
    const h = await start();
    const big = `m v="${'a'.repeat(MAX)}"`;
    const v1 = await h.post('/write?db=d', big);
    expect(v1.status).toBe(413);
    expect(Object.keys((await v1.json()) as object)).toEqual(['error']);
    const bomb = gzipSync(`m v="${'a'.repeat(MAX * 32)}"`);
    const v2 = await h.post('/api/v2/write?bucket=b', bomb, { 'content-encoding': 'gzip' });
    expect(v2.status).toBe(413);
    expect(((await v2.json()) as { code: string }).code).toBe('request too large');
    expect(h.sink.entries()).toEqual([]);
  });

  it('answers 503 + Retry-After when full or pushed back; the JS client sees a retryable error', async () => {
    let full = true;
    const h = await start({ capacity: { hasCapacity: () => !full } });
    const res = await h.post('/api/v2/write?bucket=b', 'm v=1 1');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { code: string }).code).toBe('unavailable');

    full = false;
    h.sink.failWith(new BackpressureError('spool full', 2000));
    const v1 = await h.post('/write?db=d', 'm v=1 1');
    expect(v1.status).toBe(503);
    expect(v1.headers.get('retry-after')).toBe('2');
    expect(await v1.json()).toEqual({ error: 'spool full' });
    expect(
      await metricValue(h.deps, 'fleetline_http_requests_rejected_total', {
        reason: 'backpressure',
      }),
    ).toBe(2);

    h.sink.failWith(undefined);
    expect((await h.post('/write?db=d', 'm v=1 1')).status).toBe(204);
  });

  it('answers 401 to a client with the wrong token', async () => {
    const h = await start();
    const api = h.writeApi({ token: 'wrong-token-xyz' });
    api.writePoint(new Point('m').floatField('v', 1));
    const err = await api.close().catch((e: unknown) => e);
    expect((err as HttpError).statusCode).toBe(401);
    expect(h.sink.entries()).toEqual([]);
  });

  it('takes the first of a repeated query parameter', async () => {
    const h = await start();
    expect(
      (await h.post('/write?db=first&db=second&precision=s&precision=ms', 'm v=1 7')).status,
    ).toBe(204);
    expect(h.sink.batches[0]?.origin.database).toBe('first');
    expect(h.sink.entries()[0]).toMatchObject({ sec: 7, nsec: 0 });
  });

  it('answers 204 to an empty body without handing anything downstream', async () => {
    const h = await start();
    expect((await h.post('/write?db=d', '')).status).toBe(204);
    expect((await h.post('/api/v2/write?bucket=b', '# only a comment\n\n')).status).toBe(204);
    expect(h.sink.batches).toEqual([]);
  });

  it('rejects a body that is not UTF-8', async () => {
    const h = await start();
    const res = await h.post(
      '/write?db=d',
      Buffer.from([0x6d, 0x20, 0x76, 0x3d, 0x22, 0xff, 0x22]),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not valid UTF-8' });
  });

  it('answers the CREATE DATABASE Telegraf sends at start, and refuses other queries', async () => {
    const h = await start();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const created = await h.post('/query', 'q=CREATE+DATABASE+%22telegraf%22', form);
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ results: [{ statement_id: 0 }] });
    expect((await h.post('/query?q=CREATE%20DATABASE%20x', '')).status).toBe(200);
    const select = await h.post('/query', 'q=SELECT+*+FROM+cpu', form);
    expect(select.status).toBe(400);
    expect(((await select.json()) as { error: string }).error).toMatch(/accepts writes only/);
  });

  it('reads a body sent with an empty Content-Type header, as the influx 1.x CLI -import does', async () => {
    const h = await start();
    const body = 'cpu usage=2.5 1700000000\n';
    const url = new URL(h.server.url());
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.end(
          `POST /write?db=d&precision=s HTTP/1.1\r\nHost: ${url.host}\r\n` +
            `Authorization: Token ${TOKEN}\r\nContent-Type: \r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 204 /);
    expect(h.sink.entries()).toMatchObject([
      { tag: 'cpu', sec: 1700000000, record: { usage: 2.5 } },
    ]);
  });

  it('answers GET /ping with 204 like InfluxDB', async () => {
    const h = await start();
    const res = await fetch(`${h.server.url()}/ping`, {
      headers: { authorization: `Token ${TOKEN}` },
    });
    expect(res.status).toBe(204);
  });
});
