import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { fleetEventRoutes } from '../../src/ingest/http/fleet-event-routes.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { testDeps } from '../helpers/deps.ts';
import { asgEvent, ec2StateChange } from '../ingest/http/aws-events.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start() {
  const deps = testDeps({ clock: { now: () => Date.UTC(2026, 10, 27, 12) } });
  const observed: Observation[] = [];
  const server = createHttpServer({ bind: '127.0.0.1', port: 0, max_body_bytes: 64 * 1024 }, deps, {
    readiness: [],
    routes: [fleetEventRoutes(deps, { sink: { observe: (o) => observed.push(...o) } })],
  });
  servers.push(server);
  await server.start();
  const post = (path: string, body: unknown) =>
    fetch(`${server.url()}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  return { observed, post };
}

const NEXT_DAY = Date.UTC(2026, 11, 1, 0, 0, 0);

describe('fleet events over HTTP › times the schema accepts', () => {
  it('reads a leap second (valid RFC 3339) as a time, never as NaN', async () => {
    const h = await start();
    const leap = '2026-11-30T23:59:60Z';
    const launch = asgEvent('EC2 Instance Launch Successful', '');
    const res = await h.post('/ingest/eventbridge', [
      { ...ec2StateChange('running'), time: leap },
      { ...launch, time: leap, detail: { ...launch.detail, StartTime: leap } },
    ]);
    expect(res.status).toBe(200);
    expect(h.observed.map((o) => o.at)).toEqual([NEXT_DAY, Date.UTC(2026, 10, 27, 11, 1, 30, 500)]);
    expect((h.observed[1] as { launchedAt?: number }).launchedAt).toBe(NEXT_DAY);
    const deploy = await h.post('/api/deploys', {
      role: 'web',
      version: '1',
      phase: 'started',
      time: leap,
    });
    expect(deploy.status).toBe(200);
    expect(h.observed[2]?.at).toBe(NEXT_DAY);
  });

  it.each([1e300, 1e16, 9_300_000_000_000, 9_300_000_000, '9999-12-31T23:59:59Z'])(
    'answers 400 for a deploy time of %s, which no date (or InfluxDB) can hold',
    async (time) => {
      const h = await start();
      const res = await h.post('/api/deploys', {
        role: 'web',
        version: '1',
        phase: 'started',
        time,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/^body\.time: /);
      expect(h.observed).toEqual([]);
    },
  );

  it('answers 400 naming the field for EventBridge times InfluxDB cannot store, observing nothing', async () => {
    const h = await start();
    const launch = asgEvent('EC2 Instance Launch Successful', '');
    const res = await h.post('/ingest/eventbridge', [
      ec2StateChange('running'),
      { ...ec2StateChange('running'), time: '9999-12-31T23:59:59Z' },
      { ...launch, detail: { ...launch.detail, StartTime: '1066-10-14T09:00:00Z' } },
    ]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message.split('; ')).toEqual([
      'body[1].time: is not a time InfluxDB can store (1677-09-21 to 2262-04-11)',
      'body[2].detail.StartTime: is not a time InfluxDB can store (1677-09-21 to 2262-04-11)',
    ]);
    expect(h.observed).toEqual([]);
  });
});

describe('fleet events over HTTP › detail-types named like Object properties', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'ignores an event of detail-type %s like any other unmapped one',
    async (detailType) => {
      const h = await start();
      const res = await h.post('/ingest/eventbridge', [
        ec2StateChange('running'),
        { ...ec2StateChange('running'), 'detail-type': detailType },
      ]);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 1, ignored: 1, observations: 1 });
      expect(h.observed).toHaveLength(1);
    },
  );
});
