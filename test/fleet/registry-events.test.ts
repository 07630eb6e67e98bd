/** The registry's lifecycle events when sources repeat themselves or report out of order. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { type Fleet, openFleet } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const up = (
  id: string,
  role: string,
  version: string,
  at = T,
  source: Observation['source'] = 'ec2',
): Observation => ({ kind: 'running', at, source, facts: { instanceId: id, role, version } });

describe('fleet registry events', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('never reports an instance that comes back as replacing itself, and gives it its slot back', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-a', 'web', '1'), up('i-b', 'web', '1')]);
    // e.g. the idle sweep ended it, then EC2 lists it again
    r.observe([{ kind: 'terminated', at: T + 10, instanceId: 'i-a', source: 'records' }]);
    r.observe([up('i-a', 'web', '1', T + 20)]);
    expect(fleet.emitted.filter((e) => e.kind === 'replace')).toEqual([]);
    expect(r.lookup('i-a', T + 30)?.slot).toBe(0);
    expect(r.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual([
      ['i-a', 0],
      ['i-b', 1],
    ]);
  });

  it('still pairs a real replacement after an instance came back', async () => {
    fleet = await openFleet();
    const r = fleet.registry;
    r.observe([up('i-a', 'web', '1'), up('i-b', 'web', '1')]);
    r.observe([{ kind: 'terminated', at: T + 10, instanceId: 'i-a', source: 'records' }]);
    r.observe([up('i-a', 'web', '1', T + 20)]);
    r.observe([{ kind: 'terminated', at: T + 30, instanceId: 'i-b', source: 'ec2' }]);
    r.observe([up('i-c', 'web', '1', T + 40)]);
    expect(fleet.emitted.filter((e) => e.kind === 'replace').map((e) => e.text)).toEqual([
      'i-b → i-c (1, fault, slot 1)',
    ]);
  });
});
