/**
 * Records of an instance the registry did not know yet, dated after EventBridge reported it
 * terminated: as for a known instance, records do not bring back what a pushed event ended.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { type Fleet, openFleet, tempDir } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 8, 0, 0);
const seen = (at: number): Observation => ({
  kind: 'seen',
  at,
  source: 'records',
  facts: { instanceId: 'i-short', role: 'batch', version: '7' },
});

describe('records of an instance ended before it was known', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('register it ended, not live, when dated after the pushed end (also after a restart)', async () => {
    const dir = tempDir();
    fleet = await openFleet({ dir });
    // Launched and terminated between two EC2 refreshes; only its end was pushed.
    fleet.registry.observe([
      { kind: 'terminated', at: T, instanceId: 'i-short', source: 'eventbridge' },
    ]);
    await fleet.stop();
    fleet = await openFleet({ dir });
    // Its shutdown logs, stamped by an agent clock a little ahead, arrive afterwards.
    fleet.registry.observe([seen(T + 2000)]);
    expect(fleet.registry.liveInstances()).toEqual([]);
    expect(fleet.registry.lookup('i-short', T + 2000)?.role).toBe('batch');
    // More of them change nothing.
    fleet.registry.observe([seen(T + 3000)]);
    expect(fleet.registry.liveInstances()).toEqual([]);
    expect(fleet.emitted.map((e) => e.kind)).toEqual(['launch', 'terminate']);
  });
});
