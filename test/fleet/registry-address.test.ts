/** Looking instances up by a reused address (private IP, hostname). */
import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { type Fleet, openFleet, tempDir } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const up = (id: string, at: number, privateIp?: string): Observation => ({
  kind: 'running',
  at,
  source: 'ec2',
  facts: { instanceId: id, role: 'web', version: '1', ...(privateIp ? { privateIp } : {}) },
});

describe('fleet registry addresses', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('gives an address held by two live instances to the later launched one, before and after a restart', async () => {
    const dir = tempDir();
    fleet = await openFleet({ dir });
    const r = fleet.registry;
    // i-new is registered first without its IP; i-old's end has not been reported yet when
    // i-new's IP (once i-old's) becomes known.
    r.observe([up('i-new', T + 10)]);
    r.observe([up('i-old', T, '10.0.0.7')]);
    r.observe([up('i-new', T + 20, '10.0.0.7')]);
    const answers = () =>
      [T + 5, T + 15, T + 30].map((t) => fleet!.registry.lookup('ip-10-0-0-7', t)?.instanceId);
    expect(answers()).toEqual(['i-old', 'i-new', 'i-new']);
    await fleet.stop();
    fleet = await openFleet({ dir });
    expect(answers()).toEqual(['i-old', 'i-new', 'i-new']);
  });
});

describe('fleet registry, role arriving after the launch report', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('keeps the launch time EC2 reported while the instance had no role tag yet', async () => {
    fleet = await openFleet();
    const launched = T - 3_600_000;
    fleet.registry.observe([
      {
        kind: 'running',
        at: T,
        launchedAt: launched,
        source: 'ec2',
        facts: { instanceId: 'i-tagged-late', privateIp: '10.0.0.8' },
      },
    ]);
    fleet.registry.observe([
      {
        kind: 'snapshot',
        at: T + 60_000,
        source: 'ec2',
        instances: [
          { instanceId: 'i-tagged-late', role: 'web', version: '1', privateIp: '10.0.0.8' },
        ],
      },
    ]);
    expect(fleet.registry.instances()).toEqual([
      expect.objectContaining({ instanceId: 'i-tagged-late', launchedAt: launched }),
    ]);
    expect(fleet.emitted.map((e) => [e.kind, e.time])).toEqual([['launch', launched]]);
    expect(fleet.registry.lookup('10.0.0.8', T)?.role).toBe('web');
  });
});
