/** Slot invariants: unique among live members of a role and bounded by the role's peak size. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/fleet/observation.ts';
import { createSlotTable } from '../../src/fleet/slots.ts';
import { openFleet, registryConfig, tempDir } from './fleet-harness.ts';

type Op = { kind: 'launch'; role: number; version: number } | { kind: 'terminate'; pick: number };

const ops = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('launch' as const),
      role: fc.integer({ min: 0, max: 2 }),
      version: fc.integer({ min: 0, max: 1 }),
    }),
    fc.record({ kind: fc.constant('terminate' as const), pick: fc.nat() }),
  ),
  { maxLength: 60 },
);

describe('slots', () => {
  it('takes the lowest free ordinal, and a preferred slot when it is free', () => {
    const t = createSlotTable();
    expect([t.acquire('web'), t.acquire('web'), t.acquire('web')]).toEqual([0, 1, 2]);
    t.release('web', 1);
    expect(t.acquire('web')).toBe(1);
    t.release('web', 0);
    t.release('web', 1);
    expect(t.acquire('web', 1)).toBe(1);
    expect(t.acquire('web', 1)).toBe(0);
    expect(t.used('web')).toEqual([0, 1, 2]);
    expect(t.used('api')).toEqual([]);
  });

  it('ignores a preferred slot beyond the role size, so the range stays bounded', () => {
    const t = createSlotTable();
    expect(t.acquire('web', 7)).toBe(0);
  });

  it('keeps live slots unique and within [0, peak) for any launches and terminations (registry)', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (script: Op[]) => {
        const fleet = await openFleet({
          dir: tempDir(),
          config: registryConfig({ replace_window: '1m' }),
        });
        try {
          const live: string[] = [];
          const peak = new Map<string, number>();
          let n = 0;
          let at = Date.UTC(2026, 0, 1);
          for (const op of script) {
            at += 10_000;
            let o: Observation;
            if (op.kind === 'launch' || live.length === 0) {
              const role = `r${op.kind === 'launch' ? op.role : 0}`;
              const id = `i-${n++}`;
              live.push(id);
              o = {
                kind: 'running',
                at,
                source: 'ec2',
                facts: {
                  instanceId: id,
                  role,
                  version: `v${op.kind === 'launch' ? op.version : 0}`,
                },
              };
            } else {
              const [id] = live.splice(op.pick % live.length, 1);
              o = { kind: 'terminated', at, instanceId: id!, source: 'ec2' };
            }
            fleet.registry.observe([o]);
            const byRole = new Map<string, number[]>();
            for (const i of fleet.registry.liveInstances())
              byRole.set(i.role, [...(byRole.get(i.role) ?? []), i.slot]);
            for (const [role, slots] of byRole) {
              peak.set(role, Math.max(peak.get(role) ?? 0, slots.length));
              expect(new Set(slots).size).toBe(slots.length);
              for (const s of slots) {
                expect(s).toBeGreaterThanOrEqual(0);
                expect(s).toBeLessThan(peak.get(role)!);
              }
            }
          }
        } finally {
          await fleet.stop();
        }
      }),
      { numRuns: 40 },
    );
  });
});
