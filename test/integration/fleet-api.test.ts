/** The fleet API through a real fastify server on 127.0.0.1: shapes, filters, pagination, 400s. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetApiRoutes } from '../../src/api/fleet-routes.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { type Fleet, openFleet } from '../fleet/fleet-harness.ts';

const T0 = Date.UTC(2026, 10, 27, 9, 0, 0);
const up = (id: string, role: string, version: string, at: number): Observation => ({
  kind: 'running',
  at,
  launchedAt: at,
  source: 'ec2',
  facts: { instanceId: id, role, version, privateIp: `10.0.0.${id.length}`, az: 'eu-west-1b' },
});

describe('fleet API', () => {
  let fleet: Fleet;
  let http: HttpServer;
  const get = async (path: string) => {
    const res = await fetch(`${http.url()}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([
      up('i-w1', 'web', '1.0', T0),
      up('i-w2', 'web', '1.0', T0),
      up('i-a1', 'api', '3.1', T0),
    ]);
    r.observe([{ kind: 'terminated', at: T0 + 60_000, instanceId: 'i-w1', source: 'ec2' }]);
    r.observe([up('i-w3', 'web', '1.1', T0 + 90_000)]);
    r.observe([
      {
        kind: 'deploy',
        at: T0 + 30_000,
        role: 'web',
        version: '1.1',
        phase: 'started',
        source: 'deploy-api',
      },
    ]);
    const cfg = parseConfig({ http: { port: 0 } }).config.http;
    http = createHttpServer(cfg, fleet.deps, {
      readiness: [],
      routes: [fleetApiRoutes(fleet.deps, { registry: fleet.registry, events: fleet.events })],
    });
    await http.start();
  });
  afterAll(async () => {
    await http.stop();
    await fleet.stop();
  });

  it('GET /api/roles lists each role with its versions, live members and slots', async () => {
    expect(await get('/api/roles')).toEqual({
      status: 200,
      body: {
        roles: [
          { role: 'api', versions: ['3.1'], members: 1, slots: [0] },
          { role: 'web', versions: ['1.0', '1.1'], members: 2, slots: [0, 1] },
        ],
      },
    });
  });

  it('GET /api/instances filters by role and liveness', async () => {
    const all = await get('/api/instances?role=web');
    expect((all.body.instances as { instanceId: string }[]).map((i) => i.instanceId)).toEqual([
      'i-w3',
      'i-w2',
      'i-w1',
    ]);
    const gone = await get('/api/instances?role=web&live=false');
    expect(gone.body.instances).toEqual([
      {
        instanceId: 'i-w1',
        role: 'web',
        version: '1.0',
        slot: 0,
        az: 'eu-west-1b',
        privateIp: '10.0.0.4',
        launchedAt: T0,
        terminatedAt: T0 + 60_000,
        live: false,
        sources: ['ec2'],
      },
    ]);
    const live = await get('/api/instances?live=true');
    expect(
      (live.body.instances as { instanceId: string; slot: number }[]).map((i) => [
        i.instanceId,
        i.slot,
      ]),
    ).toEqual([
      ['i-a1', 0],
      ['i-w3', 0],
      ['i-w2', 1],
    ]);
  });

  it('GET /api/events pages through all events in the order recorded with a cursor', async () => {
    const seen: LifecycleEvent[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await get(`/api/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      seen.push(...(body.events as LifecycleEvent[]));
      cursor = body.next_cursor as string | undefined;
      pages++;
    } while (cursor);
    const all = fleet.events.query({ limit: 100 });
    expect(seen).toEqual(all.events.map((e, i) => ({ ...e, seq: all.seqs[i] })));
    expect(pages).toBe(Math.ceil(all.events.length / 2));
    // Recording order, not event-time order: the deploy at T0+30s was recorded after the
    // events at T0+90s, and a client paging by time would have skipped it.
    const seqs = (seen as (LifecycleEvent & { seq: number })[]).map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seen.map((e) => e.kind).at(-1)).toBe('deploy');
    expect(seen.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['launch', 'terminate', 'deploy', 'replace', 'rollout_start']),
    );
  });

  it('GET /api/events filters by role, kind and time range', async () => {
    const { body } = await get(
      `/api/events?role=web&kind=replace&since=${T0}&until=${new Date(T0 + 120_000).toISOString()}`,
    );
    expect(body.events).toEqual([
      expect.objectContaining({
        kind: 'replace',
        role: 'web',
        oldInstanceId: 'i-w1',
        newInstanceId: 'i-w3',
        slot: 0,
        cause: 'release',
        time: T0 + 90_000,
      }),
    ]);
    expect(body.next_cursor).toBeUndefined();
    expect((await get(`/api/events?since=${T0 + 100_000}`)).body.events).toEqual([]);
    expect(
      ((await get('/api/events?role=api')).body.events as LifecycleEvent[]).map((e) => e.kind),
    ).toEqual(['launch']);
  });

  it.each([
    ['/api/events?limit=0', 'limit'],
    ['/api/events?limit=abc', 'limit'],
    ['/api/events?limit=5000', 'limit'],
    ['/api/events?kind=explode', 'kind'],
    ['/api/events?since=yesterday', 'since'],
    ['/api/events?since=2000&until=1000', 'until'],
    ['/api/events?cursor=bm9wZQ', 'cursor'],
    ['/api/events?role=a&role=b', 'role'],
    ['/api/instances?live=maybe', 'live'],
  ])('GET %s answers 400 naming %s', async (path, parameter) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'bad_parameter', parameter });
    expect(String(body.message)).toContain(parameter);
  });
});

describe('fleet API: following GET /api/events', () => {
  let fleet: Fleet;
  let http: HttpServer;
  const get = async (path: string) => {
    const res = await fetch(`${http.url()}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const deploy = (version: string, time: number): LifecycleEvent => ({
    id: `deploy-${version}`,
    kind: 'deploy',
    time,
    role: 'web',
    version,
    text: `deploy ${version}`,
  });
  /** Follows the feed the way a client should: next_cursor while more wait, then follow_cursor. */
  const follow = async (cursor: string | undefined, query = 'limit=1') => {
    const got: LifecycleEvent[] = [];
    let at = cursor;
    for (let i = 0; i < 50; i++) {
      const { status, body } = await get(`/api/events?${query}${at ? `&cursor=${at}` : ''}`);
      expect(status).toBe(200);
      got.push(...(body.events as LifecycleEvent[]));
      if (body.next_cursor) at = body.next_cursor as string;
      else return { got, cursor: body.follow_cursor as string };
    }
    throw new Error('the feed did not end');
  };

  beforeAll(async () => {
    fleet = await openFleet();
    const cfg = parseConfig({ http: { port: 0 } }).config.http;
    http = createHttpServer(cfg, fleet.deps, {
      readiness: [],
      routes: [fleetApiRoutes(fleet.deps, { registry: fleet.registry, events: fleet.events })],
    });
    await http.start();
  });
  afterAll(async () => {
    await http.stop();
    await fleet.stop();
  });

  it('an event recorded late with an earlier time is on the next page of a client past that time', async () => {
    fleet.events.append([deploy('a', T0 + 10), deploy('b', T0 + 30), deploy('c', T0 + 40)]);
    const first = await get('/api/events?limit=1');
    const second = await get(`/api/events?limit=1&cursor=${first.body.next_cursor}`);
    expect((second.body.events as LifecycleEvent[]).map((e) => e.time)).toEqual([T0 + 30]);
    // The client is now past t=30; an event with t=20 is recorded only now (a late delivery).
    fleet.events.append([deploy('late', T0 + 20)]);
    const rest = await follow(second.body.next_cursor as string);
    expect(rest.got.map((e) => e.id)).toEqual(['deploy-c', 'deploy-late']);
  });

  it('a follower at the end of the feed gets exactly what is recorded later, never twice', async () => {
    const start = await follow(undefined, 'limit=2');
    const seenIds = start.got.map((e) => e.id);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect((await follow(start.cursor)).got).toEqual([]);
    fleet.events.append([deploy('d', T0 + 5), deploy('e', T0 + 50)]);
    fleet.events.append([deploy('d', T0 + 5)]); // re-reported: stored once, shown once
    const after = await follow(start.cursor);
    expect(after.got.map((e) => e.id)).toEqual(['deploy-d', 'deploy-e']);
    expect((await follow(after.cursor)).got).toEqual([]);
  });

  it('a filtered follower resumes after the events its filter skipped', async () => {
    const web = await follow(undefined, 'role=db&limit=5');
    expect(web.got).toEqual([]);
    fleet.events.append([{ ...deploy('db1', T0 + 1), id: 'db1', role: 'db' }]);
    expect((await follow(web.cursor, 'role=db&limit=5')).got.map((e) => e.id)).toEqual(['db1']);
  });

  it('since/until still select by event time, also while following', async () => {
    const { body } = await get(`/api/events?since=${T0 + 20}&until=${T0 + 41}`);
    expect((body.events as LifecycleEvent[]).map((e) => e.id)).toEqual([
      'deploy-b',
      'deploy-c',
      'deploy-late',
    ]);
    const tail = await follow(undefined, `since=${T0 + 30}&limit=1`);
    fleet.events.append([deploy('f', T0 + 29), deploy('g', T0 + 31)]);
    expect((await follow(tail.cursor, `since=${T0 + 30}&limit=1`)).got.map((e) => e.id)).toEqual([
      'deploy-g',
    ]);
  });

  it('refuses a cursor from the time-ordered format with a 400 that says to start again', async () => {
    const old = Buffer.from(JSON.stringify([T0 + 30, 'deploy-b'])).toString('base64url');
    const { status, body } = await get(`/api/events?cursor=${old}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'bad_parameter', parameter: 'cursor' });
    expect(String(body.message)).toMatch(/older fleetline/);
  });

  it('refuses a cursor of another store, and one ahead of this store, with a 400', async () => {
    const other = await openFleet();
    try {
      other.events.append([deploy('x', T0), deploy('y', T0)]);
      const page = other.events.query({ limit: 1 });
      const foreign = Buffer.from(JSON.stringify(page.follow)).toString('base64url');
      const a = await get(`/api/events?cursor=${foreign}`);
      expect(a.status).toBe(400);
      expect(a.body).toMatchObject({ parameter: 'cursor' });
      expect(String(a.body.message)).toMatch(/another event store/);
    } finally {
      await other.stop();
    }
    const { body } = await get('/api/events?limit=1');
    const own = JSON.parse(Buffer.from(String(body.follow_cursor), 'base64url').toString());
    const ahead = Buffer.from(JSON.stringify({ ...own, seq: 10_000 })).toString('base64url');
    const b = await get(`/api/events?cursor=${ahead}`);
    expect(b.status).toBe(400);
    expect(String(b.body.message)).toMatch(/ahead of this store/);
  });
});
