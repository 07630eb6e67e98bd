/** Identity resolution: which claims are tried, in which order, and how addresses resolve. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Origin } from '../../src/core/entry.ts';
import { resolveIdentity } from '../../src/fleet/identity.ts';
import { entry, type Fleet, openFleet } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 11, 0, 0);
const KEYS = ['instance_id', 'ec2_instance_id', 'host', 'hostname'];
const fwd = (o: Partial<Origin> = {}): Origin => ({ input: 'forward', ...o });

describe('identity resolution', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await openFleet();
    fleet.registry.observe([
      {
        kind: 'running',
        at: T - 3_600_000,
        source: 'ec2',
        facts: {
          instanceId: 'i-a',
          role: 'web',
          version: '1',
          privateIp: '10.0.1.5',
          privateDns: 'ip-10-0-1-5.eu-west-1.compute.internal',
        },
      },
      {
        kind: 'running',
        at: T - 3_600_000,
        source: 'ec2',
        facts: { instanceId: 'i-b', role: 'api', version: '1', privateIp: '10.0.1.6' },
      },
    ]);
  });
  afterAll(() => fleet.stop());

  const who = (
    record: Record<string, string>,
    origin: Origin = fwd(),
    tags?: Record<string, string>,
  ) => {
    const r = resolveIdentity(
      entry(record, T, tags ? { tags } : {}),
      origin,
      KEYS,
      fleet.registry.lookup,
      T,
    );
    return r === null || typeof r === 'string' ? r : r.instanceId;
  };

  it.each([
    ['an instance id key', { instance_id: 'i-a' }, 'i-a'],
    ['a later key when the earlier is absent', { hostname: '10.0.1.6' }, 'i-b'],
    [
      'the first key that resolves, not merely the first present',
      { instance_id: 'i-nope', host: '10.0.1.6' },
      'i-b',
    ],
    ['a private IP', { host: '10.0.1.5' }, 'i-a'],
    [
      'a full private DNS name, in any case',
      { host: 'IP-10-0-1-5.EU-WEST-1.COMPUTE.INTERNAL' },
      'i-a',
    ],
    ['a short hostname', { host: 'ip-10-0-1-5' }, 'i-a'],
    ['a short hostname derived from the IP alone', { host: 'ip-10-0-1-6' }, 'i-b'],
  ])('resolves %s', (_name, record, want) => {
    expect(who(record)).toBe(want);
  });

  it('returns the first unresolved claim so the caller can wait for discovery', () => {
    expect(who({ instance_id: 'i-new', host: 'web-9' })).toBe('i-new');
  });

  it('ignores empty and non-string values', () => {
    expect(who({ instance_id: '', host: 'ip-10-0-1-6' })).toBe('i-b');
  });

  it('uses line-protocol tags instance_id and host', () => {
    expect(who({}, fwd({ input: 'influx-v1' }), { host: '10.0.1.6' })).toBe('i-b');
    expect(who({}, fwd({ input: 'influx-v1' }), { instance_id: 'i-a', host: '10.0.1.6' })).toBe(
      'i-a',
    );
  });

  it('uses the Forward handshake hostname, and the peer address only when the entry claims nothing', () => {
    expect(who({}, fwd({ authHostname: 'ip-10-0-1-5' }))).toBe('i-a');
    expect(who({}, fwd({ peerAddress: '10.0.1.6' }))).toBe('i-b');
    // An aggregator at 10.0.1.6 forwarding another instance's records must not be blamed for them.
    expect(who({ host: 'web-unknown' }, fwd({ peerAddress: '10.0.1.6' }))).toBe('web-unknown');
    expect(who({}, fwd({ peerAddress: '192.0.2.1' }))).toBeNull();
    expect(who({})).toBeNull();
  });
});
