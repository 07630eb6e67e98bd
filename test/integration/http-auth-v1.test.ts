import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fluentdRoutes } from '../../src/ingest/http/fluentd-routes.ts';
import { influxWriteRoutes } from '../../src/ingest/http/influx-write-routes.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type FakeClock, fakeClock } from '../helpers/fake-clock.ts';
import { type RecordingSink, recordingSink } from '../helpers/recording-sink.ts';

// A token shaped like InfluxDB's (base64 with `=`), so URL encoding matters.
const TOKEN = 'v1-compat-Tok3n+/secret==';
const WRONG = 'v1-compat-Tok3n+/WRONGG==';
const MAX = 64 * 1024;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Harness {
  server: HttpServer;
  sink: RecordingSink;
  deps: ReturnType<typeof testDeps>;
  /** Everything the service logged, at trace level, as one string. */
  logs(): string;
  /** What the test-only API route saw: req.url and req.query. */
  seen: { url: string; query: unknown }[];
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
}

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

async function start(
  opts: { token?: string; clock?: FakeClock } = { token: TOKEN },
): Promise<Harness> {
  const lines: string[] = [];
  const log = createLogger(
    'trace',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const deps = testDeps({ log, ...(opts.clock ? { clock: opts.clock } : {}) });
  const sink = recordingSink();
  const seen: Harness['seen'] = [];
  // Stands for every API route, and for fastify's own request logs (its `req` serializer
  // prints req.url): it logs the request the way they do.
  const apiEcho: FastifyPluginAsync = async (app) => {
    app.get('/api/echo', async (req) => {
      req.log.info({ req }, 'echo');
      seen.push({ url: req.url, query: req.query });
      return { ok: true };
    });
  };
  const inputs = { downstream: sink, maxBodyBytes: MAX };
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
      routes: [influxWriteRoutes(deps, inputs), fluentdRoutes(deps, inputs), apiEcho],
    },
  );
  servers.push(server);
  await server.start();
  return {
    server,
    sink,
    deps,
    seen,
    logs: () => lines.join(''),
    post: (path, body, headers = {}) =>
      fetch(`${server.url()}${path}`, { method: 'POST', body, headers }),
  };
}

const q = encodeURIComponent;

/** Sends a request head as written (fetch would drop a `#…`); resolves with the status. */
function rawRequest(url: string, head: string, body = ''): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (d) => {
      answer += String(d);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.end(
      `${head}\r\nhost: x\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

describe('HTTP authentication for InfluxDB 1.x clients', () => {
  it('accepts basic auth with the token as password and any username on /write (Telegraf, influx CLI)', async () => {
    const h = await start();
    for (const user of ['telegraf', '', 'admin']) {
      const res = await h.post('/write?db=telegraf&precision=s', `cpu,host=a usage=1 1700000000`, {
        authorization: basic(user, TOKEN),
      });
      expect(res.status, user).toBe(204);
    }
    expect(h.sink.entries()).toHaveLength(3);
    expect(h.sink.batches[0]?.origin).toMatchObject({ input: 'influx-v1', database: 'telegraf' });
  });

  it('accepts u and p query parameters on /write and /query, p being the token', async () => {
    const h = await start();
    const res = await h.post(`/write?db=d&u=telegraf&p=${q(TOKEN)}`, 'm v=1 1');
    expect(res.status).toBe(204);
    // p alone (no u) is enough: the username is ignored anyway.
    expect((await h.post(`/write?db=d&p=${q(TOKEN)}`, 'm v=2 2')).status).toBe(204);
    const created = await h.post(
      `/query?u=telegraf&p=${q(TOKEN)}&q=${q('CREATE DATABASE "telegraf"')}`,
      '',
    );
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ results: [{ statement_id: 0 }] });
    const form = await h.post('/query', `q=${q('CREATE DATABASE x')}`, {
      authorization: basic('telegraf', TOKEN),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(200);
    expect(h.sink.entries()).toHaveLength(2);
  });

  it('accepts the real influxdb-client sending basic auth to /write', async () => {
    const h = await start();
    const api = new InfluxDB({
      url: h.server.url(),
      headers: { authorization: basic('client', TOKEN) },
    }).getWriteApi('org', 'bucket', 's', { flushInterval: 0, maxRetries: 0 });
    (api as unknown as { path: string }).path = '/write?db=clientdb&precision=s';
    api.writePoint(new Point('m').tag('host', 'a').floatField('v', 1).timestamp(1700000000));
    await api.close();
    expect(h.sink.entries()).toEqual([
      { tag: 'm', tags: { host: 'a' }, record: { v: 1 }, sec: 1700000000, nsec: 0 },
    ]);
    expect(h.sink.batches[0]?.origin).toMatchObject({ database: 'clientdb' });
  });

  it('answers wrong or missing credentials with 401, both challenges and every accepted form', async () => {
    const h = await start();
    const attempts: [string, Record<string, string>][] = [
      ['/write?db=d', {}],
      ['/write?db=d', { authorization: basic('telegraf', WRONG) }],
      [`/write?db=d&u=telegraf&p=${q(WRONG)}`, {}],
      ['/write?db=d', { authorization: `Token ${WRONG}` }],
    ];
    for (const [path, headers] of attempts) {
      const res = await h.post(path, 'm v=1 1', headers);
      expect(res.status, path).toBe(401);
      const challenges = res.headers.get('www-authenticate') ?? '';
      expect(challenges).toMatch(/Basic realm="fleetline"/);
      expect(challenges).toMatch(/Bearer realm="fleetline"/);
      // InfluxDB 1.x clients (Telegraf) show the `error` field and X-Influxdb-Error.
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(/Bearer <token>/);
      expect(body.error).toMatch(/basic auth/i);
      expect(body.error).toMatch(/`p` query parameter/);
      expect(res.headers.get('x-influxdb-error')).toBe(body.error);
    }
    expect(h.sink.entries()).toEqual([]);
  });

  it('shapes the 401 of /api/v2/write as the v2 clients read it', async () => {
    const h = await start();
    const api = new InfluxDB({ url: h.server.url(), token: WRONG }).getWriteApi('o', 'b', 'ns', {
      flushInterval: 0,
      maxRetries: 0,
    });
    api.writePoint(new Point('m').floatField('v', 1));
    const err = (await api.close().catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.statusCode).toBe(401);
    expect(err.code).toBe('unauthorized');
    expect(err.message).toMatch(/wrong token.*Token <token>/);
    expect(err.message).not.toMatch(/`p`/);
  });

  it('takes p only on the v1 routes; basic auth and the Authorization header everywhere', async () => {
    const h = await start();
    const withP = await h.post(`/api/v2/write?bucket=b&p=${q(TOKEN)}`, 'm v=1 1');
    expect(withP.status).toBe(401);
    expect(((await withP.json()) as { message: string }).message).toMatch(
      /`p` query parameter is accepted only on POST \/write and POST \/query/,
    );
    const fluentdP = await h.post(`/fluentd/app?p=${q(TOKEN)}`, '{"a":1}', {
      'content-type': 'application/json',
    });
    expect(fluentdP.status).toBe(401);
    const apiP = await fetch(`${h.server.url()}/api/echo?p=${q(TOKEN)}`);
    expect(apiP.status).toBe(401);
    expect(h.seen).toEqual([]);

    expect(
      (await h.post('/api/v2/write?bucket=b', 'm v=1 1', { authorization: basic('x', TOKEN) }))
        .status,
    ).toBe(204);
    expect(
      (
        await h.post('/fluentd/app', '{"a":1}', {
          'content-type': 'application/json',
          authorization: basic('fluent-bit', TOKEN),
        })
      ).status,
    ).toBe(200);
    const api = await fetch(`${h.server.url()}/api/echo`, {
      headers: { authorization: basic('', TOKEN) },
    });
    expect(api.status).toBe(200);
    expect(h.sink.entries()).toHaveLength(2);
  });

  it('answers /ping without credentials, as InfluxDB does', async () => {
    const h = await start();
    const res = await fetch(`${h.server.url()}/ping`);
    expect(res.status).toBe(204);
    expect((await fetch(`${h.server.url()}/healthz`)).status).toBe(200);
  });

  it('counts and logs each refusal by reason, without the credentials', async () => {
    const h = await start();
    await h.post('/write?db=d', 'm v=1 1');
    await h.post('/write?db=d', 'm v=1 1', { authorization: basic('u', WRONG) });
    await h.post(`/write?db=d&p=${q(WRONG)}`, 'm v=1 1');
    await h.post('/write?db=d', 'm v=1 1', { authorization: 'Negotiate abc' });
    await h.post(`/api/v2/write?bucket=b&p=${q(TOKEN)}`, 'm v=1 1');
    const count = (reason: string) =>
      metricValue(h.deps, 'fleetline_http_unauthorized_total', { reason });
    expect(await count('missing')).toBe(1);
    expect(await count('wrong_token')).toBe(2);
    expect(await count('malformed')).toBe(1);
    expect(await count('query_not_accepted')).toBe(1);
    const refusals = h
      .logs()
      .split('\n')
      .filter((l) => l.includes('"event":"http_unauthorized"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(refusals).toHaveLength(5);
    expect(refusals[1]).toMatchObject({
      level: 40,
      reason: 'wrong_token',
      scheme: 'basic',
      method: 'POST',
      path: '/write',
      peer: '127.0.0.1',
    });
    expect(refusals[2]).toMatchObject({ reason: 'wrong_token', scheme: 'query', path: '/write' });
  });

  it('logs at most 10 refusals a second and says how many it left out; counts every one', async () => {
    const clock = fakeClock(1_700_000_000_000);
    const h = await start({ token: TOKEN, clock });
    const refusals = () =>
      h
        .logs()
        .split('\n')
        .filter((l) => l.includes('"event":"http_unauthorized"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = 0; i < 50; i++) await h.post('/write?db=d', 'm v=1 1');
    expect(
      await metricValue(h.deps, 'fleetline_http_unauthorized_total', { reason: 'missing' }),
    ).toBe(50);
    expect(refusals()).toHaveLength(10);
    clock.advance(1_000);
    await h.post('/write?db=d', 'm v=1 1');
    expect(refusals()).toHaveLength(11);
    expect(refusals()[10]).toMatchObject({ reason: 'missing', suppressed: 40 });
  });

  it('never lets the token or a wrong password reach the logs, nor p reach a route', async () => {
    const h = await start();
    await h.post(`/write?db=d&u=telegraf&p=${q(TOKEN)}`, 'm v=1 1');
    await h.post(`/write?db=d&u=telegraf&p=${q(WRONG)}`, 'm v=1 1');
    await h.post('/write?db=d', 'm v=1 1', { authorization: basic('telegraf', TOKEN) });
    await h.post('/write?db=d', 'm v=1 1', { authorization: basic('telegraf', WRONG) });
    await h.post(`/query?p=${q(TOKEN)}&q=SHOW+DATABASES`, '');
    await h.post(`/write?db=d&p=${q(TOKEN)}`, 'not line protocol');
    await fetch(`${h.server.url()}/api/echo?x=1&p=${q(TOKEN)}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await fetch(`${h.server.url()}/nowhere?p=${q(TOKEN)}`);

    expect(h.seen).toEqual([
      { url: '/api/echo?x=1&p=[redacted]', query: { x: '1', p: '[redacted]' } },
    ]);
    const logs = h.logs();
    expect(logs).toContain('p=[redacted]');
    for (const secret of [TOKEN, WRONG]) {
      for (const form of [secret, q(secret), Buffer.from(`telegraf:${secret}`).toString('base64')])
        expect(logs).not.toContain(form);
    }
  });

  it('takes p after a raw `#` out of the URL as well: fastify routes and parses it as query', async () => {
    const h = await start();
    // fastify's router ends the path at the first `?` or `#`, so this is POST /write with p.
    expect(
      await rawRequest(h.server.url(), `POST /write#&db=d&p=${q(TOKEN)} HTTP/1.1`, 'm v=1 1'),
    ).toBe(204);
    expect(
      await rawRequest(h.server.url(), `POST /write#&db=d&p=${q(WRONG)} HTTP/1.1`, 'm v=1 1'),
    ).toBe(401);
    // A `p` behind a second `?` is no parameter to fastify: not taken, but not logged either.
    expect(
      await rawRequest(h.server.url(), `POST /write#x?p=${q(WRONG)} HTTP/1.1`, 'm v=1 1'),
    ).toBe(401);
    expect(
      await rawRequest(
        h.server.url(),
        `GET /api/echo#&p=${q(TOKEN)} HTTP/1.1\r\nauthorization: Bearer ${TOKEN}`,
      ),
    ).toBe(200);
    expect(h.sink.entries()).toHaveLength(1);
    expect(h.seen).toEqual([{ url: '/api/echo#&p=[redacted]', query: { p: '[redacted]' } }]);
    const logs = h.logs();
    expect(logs).toContain('"event":"http_unauthorized"');
    for (const secret of [TOKEN, WRONG]) {
      for (const form of [secret, q(secret)]) expect(logs).not.toContain(form);
    }
  });

  it('takes a non-ASCII token in every form, as curl and Go send it (UTF-8) and as Node does', async () => {
    const token = 'tökén-ünïcode-Tok3n';
    const h = await start({ token });
    const url = h.server.url();
    // A string written to the socket goes out as UTF-8 bytes, as curl and Go clients send it.
    for (const scheme of ['Bearer', 'Token'])
      expect(
        await rawRequest(url, `GET /api/echo HTTP/1.1\r\nauthorization: ${scheme} ${token}`),
      ).toBe(200);
    // Node's fetch sends Latin-1.
    const viaFetch = await fetch(`${url}/api/echo`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(viaFetch.status).toBe(200);
    expect(
      (await h.post('/write?db=d', 'm v=1 1', { authorization: basic('u', token) })).status,
    ).toBe(204);
    expect((await h.post(`/write?db=d&p=${q(token)}`, 'm v=1 1')).status).toBe(204);
    expect(await rawRequest(url, `GET /api/echo HTTP/1.1\r\nauthorization: Bearer ${token}X`)).toBe(
      401,
    );
  });

  it('keeps the credentials of a request Node cannot parse out of the trace-level client error log', async () => {
    const h = await start();
    const head =
      `POST /write?db=d&p=${q(TOKEN)} HTTP/1.1\r\n` +
      `authorization: ${basic('telegraf', TOKEN)}\r\nx-other: Bearer ${TOKEN}\r\nnot a header`;
    expect(await rawRequest(h.server.url(), head)).toBe(400);
    const logs = h.logs();
    // fastify logs the parse error at trace level; it is there, only without the request bytes.
    expect(logs).toMatch(/"msg":"client error"/);
    expect(logs).not.toContain('rawPacket');
    const asBytes = (text: string) => JSON.stringify([...Buffer.from(text)]).slice(1, -1);
    for (const form of [TOKEN, q(TOKEN), Buffer.from(`telegraf:${TOKEN}`).toString('base64')]) {
      expect(logs).not.toContain(form);
      expect(logs).not.toContain(asBytes(form));
    }
  });

  it('takes p out of URLs even without http.token, so it is never logged', async () => {
    const h = await start({});
    expect((await h.post(`/write?db=d&u=x&p=${q(TOKEN)}`, 'm v=1 1')).status).toBe(204);
    expect((await fetch(`${h.server.url()}/api/echo?p=${q(TOKEN)}`)).status).toBe(200);
    expect(h.seen).toEqual([{ url: '/api/echo?p=[redacted]', query: { p: '[redacted]' } }]);
    expect(h.logs()).not.toContain(q(TOKEN));
  });
});
