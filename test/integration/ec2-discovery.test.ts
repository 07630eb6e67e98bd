/**
 * EC2 discovery end to end: the real `@aws-sdk/client-ec2` (credentials from environment
 * variables, SigV4, standard retries) against the local EC2 Query API endpoint, delivering to a
 * recording ObservationSink.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Observation, ObservationSink } from '../../src/fleet/observation.ts';
import { createEc2Source, type Ec2Config } from '../../src/fleet/sources/ec2-source.ts';
import { isolateAwsEnv } from '../helpers/aws-env.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { ec2Config } from '../helpers/ec2-config.ts';
import { type Ec2Endpoint, type Ec2Instance, startEc2Endpoint } from '../helpers/ec2-endpoint.ts';
import { fakeClock } from '../helpers/fake-clock.ts';

const ACCESS_KEY_ID = 'AKIAFLEETLINETEST01';
const SECRET_ACCESS_KEY = 'fleetline/secret+key/do-not-log-0123456789';
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

interface RecordingObservationSink extends ObservationSink {
  calls: Observation[][];
  waitForCalls(n: number, timeoutMs?: number): Promise<Observation[][]>;
}

function recordingObservationSink(): RecordingObservationSink {
  const calls: Observation[][] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    calls,
    observe(observations) {
      calls.push([...observations]);
      for (const w of waiters.splice(0))
        (calls.length >= w.n ? w.resolve : () => waiters.push(w))();
    },
    // Generous: a refresh is quick, but the shared 2-core machine can stall a worker for seconds.
    waitForCalls(n, timeoutMs = 20_000) {
      if (calls.length >= n) return Promise.resolve(calls);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`timed out waiting for ${n} observe() calls, have ${calls.length}`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(calls);
          },
        });
      });
    },
  };
}

function config(endpoint: string, overrides: Partial<Ec2Config> = {}): Ec2Config {
  return ec2Config(endpoint, {
    filters: [{ name: 'tag:Env', values: ['prod'] }],
    refresh_interval: '200ms',
    ami_version_tag: 'AppVersion',
    max_attempts: 3,
    max_backoff: '10m',
    ...overrides,
  });
}

const web1: Ec2Instance = {
  instanceId: 'i-0web1',
  state: 'running',
  imageId: 'ami-0aaa',
  privateDnsName: 'ip-10-0-1-11.eu-west-1.compute.internal',
  privateIpAddress: '10.0.1.11',
  launchTime: '2026-11-27T10:00:00.000Z',
  availabilityZone: 'eu-west-1a',
  tags: { Role: 'web', Version: '1.4.2', Env: 'prod' },
};
const web2: Ec2Instance = {
  instanceId: 'i-0web2',
  state: 'running',
  imageId: 'ami-0bbb',
  privateDnsName: 'ip-10-0-2-12.eu-west-1.compute.internal',
  privateIpAddress: '10.0.2.12',
  launchTime: '2026-11-27T10:05:00.000Z',
  availabilityZone: 'eu-west-1b',
  tags: { Role: 'web', Env: 'prod' },
};
const api1: Ec2Instance = {
  instanceId: 'i-0api1',
  state: 'pending',
  imageId: 'ami-0ccc',
  privateDnsName: 'ip-10-0-1-21.eu-west-1.compute.internal',
  privateIpAddress: '10.0.1.21',
  launchTime: '2026-11-27T11:59:30.000Z',
  availabilityZone: 'eu-west-1a',
  tags: { Role: 'api', Env: 'prod', 'aws:autoscaling:groupName': 'api-v123' },
};
const oldWeb: Ec2Instance = {
  instanceId: 'i-0old',
  state: 'terminated',
  imageId: 'ami-0aaa',
  launchTime: '2026-11-20T09:00:00.000Z',
  availabilityZone: 'eu-west-1a',
  stateTransitionReason: 'User initiated (2026-11-27 11:58:00 GMT)',
  tags: { Role: 'web', Version: '1.4.1', Env: 'prod' },
};
const stopped: Ec2Instance = {
  instanceId: 'i-0stopped',
  state: 'stopped',
  imageId: 'ami-0aaa',
  launchTime: '2026-11-21T09:00:00.000Z',
  tags: { Role: 'batch', Env: 'prod' },
};
const devBox: Ec2Instance = {
  instanceId: 'i-0dev',
  state: 'running',
  imageId: 'ami-0aaa',
  tags: { Role: 'web', Version: '9.9.9', Env: 'dev' },
};

describe('ec2 discovery (real SDK against a local EC2 Query API endpoint)', () => {
  let ec2: Ec2Endpoint;
  const stops: (() => Promise<void>)[] = [];
  isolateAwsEnv(ACCESS_KEY_ID, SECRET_ACCESS_KEY);

  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    // Each test scripts the endpoint from scratch, whatever ran before it.
    ec2.requests.length = 0;
    ec2.clearFailures();
    ec2.setPageSize(0);
    ec2.setResponseDelay(0);
  });
  afterAll(async () => {
    await ec2.close();
  });

  it('reports running, terminated and a snapshot after paging past a throttle, signed with the env key', async () => {
    ec2.setInstances([web1, web2, api1, oldWeb, stopped, devBox]);
    ec2.setImages([
      { imageId: 'ami-0aaa', name: 'web-1.4.2', tags: { AppVersion: '1.4.2' } },
      { imageId: 'ami-0bbb', name: 'web-1.4.3', tags: { AppVersion: '1.4.3' } },
      { imageId: 'ami-0ccc', name: 'api-base' },
    ]);
    ec2.setPageSize(3);
    ec2.throttleNext(1, 'DescribeInstances');
    const deps = testDeps({ clock: fakeClock(NOW) });
    const sink = recordingObservationSink();
    const source = createEc2Source(config(ec2.url), deps, sink);
    stops.push(() => source.stop());
    await source.start();
    const [first] = await sink.waitForCalls(1);

    const webFacts1 = {
      instanceId: 'i-0web1',
      role: 'web',
      version: '1.4.2',
      az: 'eu-west-1a',
      ami: 'ami-0aaa',
      privateIp: '10.0.1.11',
      privateDns: 'ip-10-0-1-11.eu-west-1.compute.internal',
      attributes: {
        Role: 'web',
        Version: '1.4.2',
        Env: 'prod',
        launch_time: String(Date.parse('2026-11-27T10:00:00.000Z')),
      },
      launchedAt: Date.parse('2026-11-27T10:00:00.000Z'),
    };
    const webFacts2 = {
      instanceId: 'i-0web2',
      role: 'web',
      version: '1.4.3', // from the AMI's AppVersion tag
      az: 'eu-west-1b',
      ami: 'ami-0bbb',
      privateIp: '10.0.2.12',
      privateDns: 'ip-10-0-2-12.eu-west-1.compute.internal',
      attributes: {
        Role: 'web',
        Env: 'prod',
        launch_time: String(Date.parse('2026-11-27T10:05:00.000Z')),
      },
      launchedAt: Date.parse('2026-11-27T10:05:00.000Z'),
    };
    const apiFacts = {
      instanceId: 'i-0api1',
      role: 'api',
      version: 'v123', // from the Auto Scaling group name api-v123
      az: 'eu-west-1a',
      ami: 'ami-0ccc',
      privateIp: '10.0.1.21',
      privateDns: 'ip-10-0-1-21.eu-west-1.compute.internal',
      attributes: {
        Role: 'api',
        Env: 'prod',
        'aws:autoscaling:groupName': 'api-v123',
        launch_time: String(Date.parse('2026-11-27T11:59:30.000Z')),
      },
      launchedAt: Date.parse('2026-11-27T11:59:30.000Z'),
    };
    expect(first).toEqual([
      {
        kind: 'running',
        at: NOW,
        facts: webFacts1,
        launchedAt: Date.parse('2026-11-27T10:00:00Z'),
        source: 'ec2',
      },
      {
        kind: 'running',
        at: NOW,
        facts: webFacts2,
        launchedAt: Date.parse('2026-11-27T10:05:00Z'),
        source: 'ec2',
      },
      {
        kind: 'running',
        at: NOW,
        facts: apiFacts,
        launchedAt: Date.parse('2026-11-27T11:59:30Z'),
        source: 'ec2',
      },
      {
        kind: 'terminated',
        at: Date.parse('2026-11-27T11:58:00Z'),
        instanceId: 'i-0old',
        source: 'ec2',
      },
      { kind: 'snapshot', at: NOW, instances: [webFacts1, webFacts2, apiFacts], source: 'ec2' },
    ]);

    // One throttled attempt, retried by the SDK, then two pages.
    const listing = ec2.requestsFor('DescribeInstances').slice(0, 3);
    expect(listing.map((r) => [r.status, r.errorCode, r.params.NextToken !== undefined])).toEqual([
      [503, 'RequestLimitExceeded', false],
      [200, undefined, false],
      [200, undefined, true],
    ]);
    for (const r of ec2.requests) {
      expect(r.signed).toBe(true);
      expect(r.accessKeyId).toBe(ACCESS_KEY_ID);
      expect(r.signingRegion).toBe('eu-west-1');
      expect(r.params.Version).toBe('2016-11-15');
    }
    expect(listing[1]!.filters).toEqual([{ name: 'tag:Env', values: ['prod'] }]);
    expect(listing[1]!.params.MaxResults).toBe('1000');
    // Only images of instances without a Version tag are looked up, by filter.
    const imageCalls = ec2.requestsFor('DescribeImages');
    expect(imageCalls).toHaveLength(1);
    expect(imageCalls[0]!.filters).toEqual([
      { name: 'image-id', values: ['ami-0bbb', 'ami-0ccc'] },
    ]);

    expect(await metricValue(deps, 'fleetline_ec2_throttles_total')).toBe(1);
    expect(await metricValue(deps, 'fleetline_ec2_refreshes_total')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(deps, 'fleetline_ec2_refresh_failures_total')).toBe(0);
    expect(
      await metricValue(deps, 'fleetline_ec2_instances_seen_total', { state: 'running' }),
    ).toBeGreaterThanOrEqual(3);
  });

  it('reports a later refresh as a snapshot only, and a replacement as running + terminated', async () => {
    ec2.setPageSize(0);
    ec2.queueInstances(
      [web1, web2],
      [web1, web2],
      [
        { ...web1, state: 'shutting-down' },
        web2,
        { ...web1, instanceId: 'i-0web3', privateIpAddress: '10.0.1.13' },
      ],
    );
    ec2.setImages([{ imageId: 'ami-0bbb', tags: { AppVersion: '1.4.3' } }]);
    const clock = fakeClock(NOW);
    const deps = testDeps({ clock });
    const sink = recordingObservationSink();
    const source = createEc2Source(config(ec2.url), deps, sink);
    stops.push(() => source.stop());
    await source.start();
    await sink.waitForCalls(1);
    clock.advance(60_000);
    const calls = await sink.waitForCalls(3);

    expect(calls[1]!.map((o) => o.kind)).toEqual(['snapshot']);
    const third = calls[2]!;
    expect(third.map((o) => o.kind)).toEqual(['running', 'terminated', 'snapshot']);
    expect(third[0]).toMatchObject({ kind: 'running', facts: { instanceId: 'i-0web3' } });
    expect(third[1]).toEqual({
      kind: 'terminated',
      at: NOW + 60_000,
      instanceId: 'i-0web1',
      source: 'ec2',
    });
    const snapshot = third[2] as Extract<Observation, { kind: 'snapshot' }>;
    expect(snapshot.instances.map((f) => f.instanceId)).toEqual(['i-0web2', 'i-0web3']);
    // The AMI version is cached: one DescribeImages for three refreshes.
    expect(ec2.requestsFor('DescribeImages')).toHaveLength(1);
  });

  it('backs off after failed refreshes, logs the reason without secrets, and recovers', async () => {
    ec2.setInstances([web1]);
    ec2.failNext(3, { code: 'UnauthorizedOperation', message: 'You are not authorized.' });
    const lines: string[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const deps = testDeps({ log });
    const sink = recordingObservationSink();
    const source = createEc2Source(
      config(ec2.url, { refresh_interval: '100ms', ami_version_tag: undefined }),
      deps,
      sink,
    );
    stops.push(() => source.stop());
    await source.start();
    const startedAt = Date.now();
    const [recovered] = await sink.waitForCalls(1);
    // Three failures back off 200 + 400 + 800 ms before the fourth call succeeds.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1300);
    expect(recovered!.at(-1)).toMatchObject({
      kind: 'snapshot',
      instances: [{ instanceId: 'i-0web1' }],
    });
    expect(ec2.requestsFor('DescribeInstances')).toHaveLength(4);

    expect(
      await metricValue(deps, 'fleetline_ec2_refresh_failures_total', { reason: 'auth' }),
    ).toBe(3);
    const failures = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.event === 'ec2_refresh_failed');
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({
      reason: 'auth',
      error: 'UnauthorizedOperation',
      detail: 'You are not authorized.',
      consecutive_failures: 1,
      retry_in_ms: 200,
    });
    expect(failures[2]).toMatchObject({ consecutive_failures: 3, retry_in_ms: 800 });
    expect(lines.join('')).not.toContain(SECRET_ACCESS_KEY);
  });

  it('fails a refresh when throttling outlasts max_attempts, counting every throttled attempt', async () => {
    ec2.setInstances([web1]);
    ec2.throttleNext(2, 'DescribeInstances');
    const deps = testDeps();
    const sink = recordingObservationSink();
    const source = createEc2Source(
      config(ec2.url, { max_attempts: 2, refresh_interval: '100ms', ami_version_tag: undefined }),
      deps,
      sink,
    );
    stops.push(() => source.stop());
    await source.start();
    await sink.waitForCalls(1);
    expect(
      await metricValue(deps, 'fleetline_ec2_refresh_failures_total', { reason: 'throttled' }),
    ).toBe(1);
    expect(await metricValue(deps, 'fleetline_ec2_throttles_total')).toBe(2);
    expect(ec2.requestsFor('DescribeInstances').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('stops cleanly: stop before start, stop twice, and nothing is reported after stop', async () => {
    ec2.setInstances([web1]);
    const sink = recordingObservationSink();
    const idle = createEc2Source(config(ec2.url), testDeps(), sink);
    await idle.stop();
    await idle.stop();

    const source = createEc2Source(
      config(ec2.url, { ami_version_tag: undefined }),
      testDeps(),
      sink,
    );
    await source.start();
    await sink.waitForCalls(1);
    await Promise.all([source.stop(), source.stop()]);
    const requests = ec2.requests.length;
    const calls = sink.calls.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(ec2.requests.length).toBe(requests);
    expect(sink.calls.length).toBe(calls);
    expect(await source.refreshNow()).toBe(false);
  });

  it('stop() does not wait out the SDK retry backoff, and counts nothing after stop', async () => {
    ec2.setInstances([web1]);
    ec2.failNext(100, { code: 'InternalError', message: 'try again', status: 500 });
    try {
      const sink = recordingObservationSink();
      const deps = testDeps();
      const source = createEc2Source(
        config(ec2.url, { ami_version_tag: undefined, max_attempts: 20 }),
        deps,
        sink,
      );
      await source.start();
      await ec2.waitForRequests(2, 'DescribeInstances');
      const startedStop = Date.now();
      await source.stop();
      // 18 attempts remain, with SDK backoff growing to many seconds; stop() itself waits at
      // most 1 s. The bound leaves room for a loaded machine and still proves no waiting out.
      expect(Date.now() - startedStop).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.calls).toEqual([]);
      expect(await metricValue(deps, 'fleetline_ec2_refresh_failures_total')).toBe(0);
    } finally {
      ec2.clearFailures();
    }
  });

  it('stop() aborts a refresh in flight instead of waiting for it, and reports nothing', async () => {
    ec2.setInstances([web1]);
    // Far longer than the stop() bound below, so passing proves the refresh was not awaited.
    ec2.setResponseDelay(60_000);
    try {
      const sink = recordingObservationSink();
      const deps = testDeps();
      const source = createEc2Source(config(ec2.url, { ami_version_tag: undefined }), deps, sink);
      const arrivals = ec2.arrivals();
      await source.start();
      // The DescribeInstances has reached the endpoint and is being held: it is in flight.
      await ec2.waitForArrivals(arrivals + 1);
      const startedStop = Date.now();
      await source.stop();
      expect(Date.now() - startedStop).toBeLessThan(5000);
      expect(sink.calls).toEqual([]);
      expect(await metricValue(deps, 'fleetline_ec2_refresh_failures_total')).toBe(0);
    } finally {
      ec2.setResponseDelay(0);
    }
  });
});
