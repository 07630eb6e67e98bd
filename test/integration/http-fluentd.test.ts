import { gzipSync } from 'node:zlib';
import { ExtData, encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapacityProbe } from '../../src/core/consumer.ts';
import { BackpressureError } from '../../src/core/errors.ts';
import { fluentdRoutes } from '../../src/ingest/http/fluentd-routes.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type RecordingSink, recordingSink } from '../helpers/recording-sink.ts';

const MAX = 64 * 1024;

interface Harness {
  server: HttpServer;
  sink: RecordingSink;
  deps: ReturnType<typeof testDeps>;
  post(
    path: string,
    body: string | Uint8Array,
    headers?: Record<string, string>,
  ): Promise<Response>;
}

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(opts: { capacity?: CapacityProbe; token?: string } = {}): Promise<Harness> {
  const deps = testDeps();
  const sink = recordingSink();
  const server = createHttpServer(
    {
      bind: '127.0.0.1',
      port: 0,
      max_body_bytes: MAX,
      ...(opts.token ? { token: opts.token } : {}),
    },
    deps,
    {
      readiness: [],
      routes: [
        fluentdRoutes(deps, { downstream: sink, capacity: opts.capacity, maxBodyBytes: MAX }),
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
      fetch(`${server.url()}${path}`, { method: 'POST', body: body as BodyInit, headers }),
  };
}

const eventTime = (sec: number, nsec: number) => {
  const data = new Uint8Array(8);
  const view = new DataView(data.buffer);
  view.setUint32(0, sec);
  view.setUint32(4, nsec);
  return new ExtData(0, data);
};

describe('fluentd HTTP input', () => {
  it('takes a JSON object, with the tag from the path and the time from ?time= exactly', async () => {
    const h = await start();
    const res = await h.post('/fluentd/app.log?time=1518756037.3137116', '{"foo":"bar","n":1}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect(h.sink.entries()).toEqual([
      { tag: 'app.log', sec: 1518756037, nsec: 313711600, record: { foo: 'bar', n: 1 } },
    ]);
    expect(h.sink.batches[0]?.origin).toEqual({ input: 'http-fluentd', peerAddress: '127.0.0.1' });
  });

  it('takes a JSON array, each record timed by its own time key (removed from the record)', async () => {
    const h = await start();
    const body = JSON.stringify([
      { time: 1700000000, msg: 'a' },
      { time: '1700000001.5', msg: 'b' },
      { time: '2026-11-27T12:00:00.123456789Z', msg: 'c' },
      { msg: 'd' },
    ]);
    const before = Date.now();
    const res = await h.post('/fluentd/web.access', body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const entries = h.sink.entries();
    expect(entries.map((e) => [e.tag, e.sec, e.nsec, e.record])).toEqual([
      ['web.access', 1700000000, 0, { msg: 'a' }],
      ['web.access', 1700000001, 500000000, { msg: 'b' }],
      ['web.access', Date.UTC(2026, 10, 27, 12) / 1000, 123456789, { msg: 'c' }],
      ['web.access', entries[3]!.sec, entries[3]!.nsec, { msg: 'd' }],
    ]);
    expect(entries[3]!.sec * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it('takes the first ?time= when the parameter is repeated', async () => {
    const h = await start();
    const res = await h.post('/fluentd/t?time=5&time=6', '{}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect(h.sink.entries()[0]).toMatchObject({ sec: 5 });
  });

  it('keeps a record time key when ?time= is given, as in_http does', async () => {
    const h = await start();
    await h.post('/fluentd/t?time=1700000000', '{"time":"later","x":1}', {
      'content-type': 'application/json',
    });
    expect(h.sink.entries()[0]).toMatchObject({ sec: 1700000000, record: { time: 'later', x: 1 } });
  });

  it('takes NDJSON, and out_http json format sent as application/json', async () => {
    const h = await start();
    const lines = '{"a":1,"time":1700000000}\n\n{"a":2,"time":1700000001}\r\n';
    expect(
      (await h.post('/fluentd/nd', lines, { 'content-type': 'application/x-ndjson' })).status,
    ).toBe(200);
    expect(
      (await h.post('/fluentd/js', lines, { 'content-type': 'application/json' })).status,
    ).toBe(200);
    expect(h.sink.entries().map((e) => [e.tag, e.sec, e.record.a])).toEqual([
      ['nd', 1700000000, 1],
      ['nd', 1700000001, 2],
      ['js', 1700000000, 1],
      ['js', 1700000001, 2],
    ]);
  });

  it('takes msgpack as a single map, an array of maps and a stream of maps, EventTime exact', async () => {
    const h = await start();
    const one = encode(
      { time: eventTime(1700000000, 123456789), level: 'info' },
      { useBigInt64: true },
    );
    const arr = encode([{ n: 1 }, { n: 2 }]);
    const stream = Buffer.concat([
      encode({ n: 3 }),
      encode({ n: 4, big: 2n ** 60n }, { useBigInt64: true }),
    ]);
    expect(
      (await h.post('/fluentd/mp.one', one, { 'content-type': 'application/msgpack' })).status,
    ).toBe(200);
    expect(
      (await h.post('/fluentd/mp.arr?time=1', arr, { 'content-type': 'application/x-msgpack' }))
        .status,
    ).toBe(200);
    expect(
      (
        await h.post('/fluentd/mp.stream?time=2', stream, {
          'content-type': 'application/x-msgpack',
        })
      ).status,
    ).toBe(200);
    expect(h.sink.entries().map((e) => [e.tag, e.sec, e.nsec, e.record])).toEqual([
      ['mp.one', 1700000000, 123456789, { level: 'info' }],
      ['mp.arr', 1, 0, { n: 1 }],
      ['mp.arr', 1, 0, { n: 2 }],
      ['mp.stream', 2, 0, { n: 3 }],
      ['mp.stream', 2, 0, { n: 4, big: 2n ** 60n }],
    ]);
  });

  it('takes in_http form bodies: json=, msgpack= (binary) and ndjson=, with time= in the form', async () => {
    const h = await start();
    const form = 'application/x-www-form-urlencoded';
    await h.post(
      '/fluentd/form.json',
      `json=${encodeURIComponent('{"foo":"b a r"}')}&time=1700000000`,
      {
        'content-type': form,
      },
    );
    const packed = Buffer.from(encode({ bin: 'é', n: 300 }));
    const pct = [...packed].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    await h.post('/fluentd/form.msgpack', `msgpack=${pct}`, { 'content-type': form });
    await h.post('/fluentd/form.nd', `ndjson=${encodeURIComponent('{"k":1}\n{"k":2}')}`, {
      'content-type': form,
    });
    expect(h.sink.entries().map((e) => [e.tag, e.record])).toEqual([
      ['form.json', { foo: 'b a r' }],
      ['form.msgpack', { bin: 'é', n: 300 }],
      ['form.nd', { k: 1 }],
      ['form.nd', { k: 2 }],
    ]);
    expect(h.sink.entries()[0]?.sec).toBe(1700000000);
  });

  it('takes gzip-compressed bodies', async () => {
    const h = await start();
    const res = await h.post('/fluentd/gz', gzipSync('[{"a":1},{"a":2}]'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    expect(h.sink.entries().map((e) => e.record)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(
      await metricValue(h.deps, 'fleetline_http_entries_accepted_total', { input: 'fluentd' }),
    ).toBe(2);
  });

  it('keeps a __proto__ key as ordinary data', async () => {
    const h = await start();
    await h.post('/fluentd/p', '{"__proto__":{"polluted":true},"a":1}', {
      'content-type': 'application/json',
    });
    const record = h.sink.entries()[0]!.record;
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('turns further slashes in the path into dots, like in_http', async () => {
    const h = await start();
    await h.post('/fluentd/app/web.access', '{}', { 'content-type': 'application/json' });
    expect(h.sink.entries()[0]?.tag).toBe('app.web.access');
  });

  it.each([
    ['application/x-ndjson', '{"a":1}\n{"a":\n', /line 2: invalid JSON/],
    ['application/json', '[{"a":1}, 5]', /record 2: expected an object, got number/],
    [
      'application/json',
      '"just a string"',
      /expected an object or an array of objects, got string/,
    ],
    ['application/msgpack', Buffer.from([0x81, 0xa3, 0x66]), /invalid msgpack after 0 value/],
    ['application/msgpack', Buffer.from([0xc1]), /invalid msgpack/],
    [
      'application/msgpack',
      Buffer.from([0x93, 0x01, 0x02, 0x03]),
      /body value 1: record 1: expected an object, got number/,
    ],
    ['application/json', '', /body is empty/],
  ] as Array<[string, string | Buffer, RegExp]>)(
    'answers 400 naming the problem for a bad %s body',
    async (type, body, message) => {
      const h = await start();
      const res = await h.post('/fluentd/bad', body, { 'content-type': type });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
      expect(h.sink.entries()).toEqual([]);
      expect(
        await metricValue(h.deps, 'fleetline_http_requests_rejected_total', { reason: 'invalid' }),
      ).toBe(1);
    },
  );

  it('answers 400 for an unreadable ?time= and for an absurd record time', async () => {
    const h = await start();
    const a = await h.post('/fluentd/t?time=yesterday', '{}', {
      'content-type': 'application/json',
    });
    expect(a.status).toBe(400);
    expect(await a.text()).toMatch(/query.time: not epoch seconds/);
    const b = await h.post('/fluentd/t', '[{"x":1},{"time":1e15}]', {
      'content-type': 'application/json',
    });
    expect(b.status).toBe(400);
    expect(await b.text()).toMatch(/record 2: time 1000000000000000 is out of the storable range/);
    expect(h.sink.entries()).toEqual([]);
  });

  it('answers 415 for a Content-Type it cannot read', async () => {
    const h = await start();
    const res = await h.post('/fluentd/x', 'a=b', { 'content-type': 'text/csv' });
    expect(res.status).toBe(415);
  });

  it('answers 413 over max_body_bytes, plain and as a gzip bomb', async () => {
    const h = await start();
    const big = `{"x":"${'a'.repeat(MAX)}"}`;
    const plain = await h.post('/fluentd/big', big, { 'content-type': 'application/json' });
    expect(plain.status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(MAX * 64, 0x20));
    expect(bomb.length).toBeLessThan(MAX);
    const zipped = await h.post('/fluentd/bomb', bomb, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(zipped.status).toBe(413);
    expect(await zipped.text()).toMatch(/decompresses to more than/);
    expect(
      await metricValue(h.deps, 'fleetline_http_requests_rejected_total', { reason: 'too_large' }),
    ).toBe(2);
    expect(h.sink.entries()).toEqual([]);
  });

  it('answers 503 with Retry-After when the capacity probe says full, without consuming', async () => {
    let full = true;
    const h = await start({ capacity: { hasCapacity: () => !full } });
    const res = await h.post('/fluentd/t', '{"a":1}', { 'content-type': 'application/json' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(h.sink.entries()).toEqual([]);
    full = false;
    expect(
      (await h.post('/fluentd/t', '{"a":1}', { 'content-type': 'application/json' })).status,
    ).toBe(200);
  });

  it('answers 503 with Retry-After when downstream rejects with back-pressure, and only 200 after consume resolves', async () => {
    const h = await start();
    h.sink.failWith(new BackpressureError('spool full', 3000));
    const res = await h.post('/fluentd/t', '{"a":1}', { 'content-type': 'application/json' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(
      await metricValue(h.deps, 'fleetline_http_requests_rejected_total', {
        reason: 'backpressure',
      }),
    ).toBe(1);

    h.sink.failWith(undefined);
    h.sink.stall();
    let answered = false;
    const pending = h
      .post('/fluentd/t', '{"a":2}', { 'content-type': 'application/json' })
      .then((r) => {
        answered = true;
        return r;
      });
    // The request reached the stalled downstream: it must not be answered before release.
    await h.sink.waitForStalled(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    h.sink.release();
    expect((await pending).status).toBe(200);
  });

  it('answers 401 without the token when http.token is set', async () => {
    const h = await start({ token: 'sekrit-token' });
    const res = await h.post('/fluentd/t', '{"a":1}', { 'content-type': 'application/json' });
    expect(res.status).toBe(401);
    const ok = await h.post('/fluentd/t', '{"a":1}', {
      'content-type': 'application/json',
      authorization: 'Bearer sekrit-token',
    });
    expect(ok.status).toBe(200);
    expect(h.sink.entries()).toHaveLength(1);
  });
});
