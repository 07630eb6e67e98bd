import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { fleetEventRoutes } from '../../src/ingest/http/fleet-event-routes.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { asgEvent, ec2StateChange } from '../ingest/http/aws-events.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(opts: { asgRolePattern?: string; token?: string } = {}) {
  const deps = testDeps({ clock: { now: () => Date.UTC(2026, 10, 27, 12) } });
  const observed: Observation[] = [];
  const server = createHttpServer(
    {
      bind: '127.0.0.1',
      port: 0,
      max_body_bytes: 64 * 1024,
      ...(opts.token ? { token: opts.token } : {}),
    },
    deps,
    {
      readiness: [],
      routes: [
        fleetEventRoutes(deps, {
          sink: { observe: (o) => observed.push(...o) },
          asgRolePattern: opts.asgRolePattern,
        }),
      ],
    },
  );
  servers.push(server);
  await server.start();
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url()}${path}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    });
  return { deps, observed, post };
}

describe('fleet events over HTTP', () => {
  it('observes a single EventBridge event and an array of them', async () => {
    const h = await start({ asgRolePattern: '(?<role>[a-z]+)-asg' });
    const one = await h.post('/ingest/eventbridge', ec2StateChange('running'));
    expect(one.status).toBe(200);
    const many = await h.post('/ingest/eventbridge', [
      asgEvent('EC2 Instance Launch Successful', '', 'web-asg'),
      asgEvent(
        'EC2 Instance Terminate Successful',
        'in response to an instance refresh',
        'web-asg',
      ),
      ec2StateChange('pending'),
      { ...ec2StateChange('running'), 'detail-type': 'EC2 Instance-launch Lifecycle Action' },
    ]);
    expect(many.status).toBe(200);
    expect(await many.json()).toEqual({ accepted: 3, ignored: 1, observations: 2 });
    expect(h.observed.map((o) => [o.kind, o.source])).toEqual([
      ['running', 'eventbridge'],
      ['running', 'autoscaling'],
      ['terminated', 'autoscaling'],
    ]);
    expect(h.observed[1]).toMatchObject({
      facts: { role: 'web', instanceId: 'i-1234567890abcdef0' },
    });
    expect(h.observed[2]).toMatchObject({ cause: 'release' });
    expect(
      await metricValue(h.deps, 'fleetline_http_entries_accepted_total', { input: 'eventbridge' }),
    ).toBe(3);
  });

  it('rejects malformed events with 400 naming each field, observing nothing from the request', async () => {
    const h = await start();
    const bad = ec2StateChange('exploded');
    const noId = asgEvent('EC2 Instance Terminate Successful', '');
    delete (noId.detail as Record<string, unknown>).EC2InstanceId;
    const res = await h.post('/ingest/eventbridge', [
      ec2StateChange('running'),
      bad,
      noId,
      { source: 'aws.ec2', time: 'yesterday', detail: {} },
    ]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('invalid');
    expect(body.message.split('; ')).toEqual([
      'body[1].detail.state: must be one of pending, running, shutting-down, terminated, stopping, stopped',
      'body[2].detail.EC2InstanceId: is required',
      'body[3].detail-type: is required',
      'body[3].time: must match format "date-time"',
    ]);
    expect(h.observed).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const h = await start();
    const res = await h.post('/ingest/eventbridge', '{"detail-type":');
    expect(res.status).toBe(400);
    expect(
      await metricValue(h.deps, 'fleetline_http_requests_rejected_total', { input: 'eventbridge' }),
    ).toBe(1);
  });

  it('observes a CI deploy', async () => {
    const h = await start();
    const res = await h.post('/api/deploys', {
      role: 'web',
      version: '1.4.3',
      phase: 'started',
      text: 'pipeline #7',
      url: 'https://ci.example/7',
    });
    expect(res.status).toBe(200);
    expect(h.observed).toEqual([
      {
        kind: 'deploy',
        at: Date.UTC(2026, 10, 27, 12),
        role: 'web',
        version: '1.4.3',
        phase: 'started',
        text: 'pipeline #7',
        url: 'https://ci.example/7',
        source: 'deploy-api',
      },
    ]);
  });

  it.each([
    [
      { role: 'web', version: '1', phase: 'begun' },
      ['body.phase: must be one of started, finished'],
    ],
    [{ version: '1', phase: 'started' }, ['body.role: is required']],
    [
      { role: 'web', verison: '1', phase: 'started' },
      ['body.version: is required', 'body.verison: is not a known field'],
    ],
    [
      { role: '', version: '1', phase: 'started', url: 'not a url' },
      ['body.role: must NOT have fewer than 1 characters', 'body.url: must match format "uri"'],
    ],
    [
      { role: 'web', version: '1', phase: 'started', time: 'noon' },
      ['body.time: must match format "date-time"'],
    ],
    [[1], ['body: must be object']],
  ])('rejects deploy %j with 400 naming the field', async (body, messages) => {
    const h = await start();
    const res = await h.post('/api/deploys', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message.split('; ')).toEqual(messages);
    expect(h.observed).toEqual([]);
  });

  it('requires the token when http.token is set', async () => {
    const h = await start({ token: 'ci-token-0001' });
    const body = { role: 'web', version: '1', phase: 'finished' };
    expect((await h.post('/api/deploys', body)).status).toBe(401);
    expect(
      (await h.post('/api/deploys', body, { authorization: 'Bearer ci-token-0001' })).status,
    ).toBe(200);
    expect(h.observed).toHaveLength(1);
  });
});
