/**
 * Property tests over random observation sequences (several sources, out-of-order times,
 * shared addresses, restarts): the registry's invariants hold after every step, and a restart
 * anywhere changes nothing (the same events, instances and lookups as without restarts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Observation, ObservationSource } from '../../src/fleet/observation.ts';
import { type Fleet, openFleet, registryConfig, tempDir } from './fleet-harness.ts';

const IDS = ['i-0', 'i-1', 'i-2', 'i-3', 'i-4'];
const dt = fc.integer({ min: -20_000, max: 20_000 });
const op = fc.oneof(
  fc.record({
    k: fc.constant('run' as const),
    id: fc.nat(4),
    role: fc.nat(1),
    v: fc.nat(2),
    src: fc.constantFrom<ObservationSource>('ec2', 'eventbridge', 'records', 'static'),
    dt,
    ip: fc.nat(2),
  }),
  fc.record({ k: fc.constant('seen' as const), id: fc.nat(4), role: fc.nat(1), v: fc.nat(2), dt }),
  fc.record({
    k: fc.constant('term' as const),
    id: fc.nat(4),
    src: fc.constantFrom<ObservationSource>('ec2', 'eventbridge', 'records'),
    dt,
  }),
  fc.record({
    k: fc.constant('snap' as const),
    which: fc.array(fc.tuple(fc.nat(4), fc.nat(1), fc.nat(2)), { maxLength: 5 }),
    src: fc.constantFrom<ObservationSource>('ec2', 'static'),
  }),
  fc.record({ k: fc.constant('deploy' as const), v: fc.nat(2) }),
  fc.record({ k: fc.constant('restart' as const) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const BASE = Date.now() - 86_400_000;

function observationOf(o: Op, at: number): Observation | undefined {
  switch (o.k) {
    case 'run':
      return {
        kind: 'running',
        at: at + o.dt,
        source: o.src,
        facts: {
          instanceId: IDS[o.id]!,
          role: `r${o.role}`,
          version: `v${o.v}`,
          privateIp: `10.0.0.${o.ip}`,
          launchedAt: at - 30_000 + o.dt,
        },
      };
    case 'seen':
      return {
        kind: 'seen',
        at: at + o.dt,
        source: 'records',
        facts: { instanceId: IDS[o.id]!, role: `r${o.role}`, version: `v${o.v}` },
      };
    case 'term':
      return { kind: 'terminated', at: at + o.dt, source: o.src, instanceId: IDS[o.id]! };
    case 'deploy':
      return {
        kind: 'deploy',
        at,
        source: 'deploy-api',
        role: 'r0',
        version: `v${o.v}`,
        phase: 'finished',
      };
    case 'snap': {
      const listed = new Map(o.which.map(([i, r, v]) => [i, [r, v] as const]));
      return {
        kind: 'snapshot',
        at,
        source: o.src,
        instances: [...listed].map(([i, [r, v]]) => ({
          instanceId: IDS[i]!,
          role: `r${r}`,
          version: `v${v}`,
        })),
      };
    }
    case 'restart':
      return undefined;
  }
}

function checkInvariants(fleet: Fleet) {
  const r = fleet.registry;
  const live = new Map<string, number[]>();
  for (const i of r.liveInstances()) live.set(i.role, [...(live.get(i.role) ?? []), i.slot]);
  for (const slots of live.values()) expect(new Set(slots).size).toBe(slots.length);
  for (const role of r.roles()) {
    expect(role.members).toBe(live.get(role.role)?.length);
    expect(role.slots).toEqual([...(live.get(role.role) ?? [])].sort((a, b) => a - b));
  }
  for (const e of fleet.emitted)
    if (e.kind === 'replace') expect(e.oldInstanceId).not.toBe(e.newInstanceId);
}

async function play(script: Op[], restarts: boolean) {
  const dir = tempDir();
  const config = registryConfig({ replace_window: '1m' });
  let fleet = await openFleet({ dir, config });
  const events: string[] = [];
  let at = BASE;
  try {
    for (const o of script) {
      at += 10_000;
      const obs = observationOf(o, at);
      if (obs) fleet.registry.observe([obs]);
      else if (restarts) {
        events.push(...fleet.emitted.map((e) => e.id));
        await fleet.stop();
        fleet = await openFleet({ dir, config });
      }
      checkInvariants(fleet);
    }
    events.push(...fleet.emitted.map((e) => e.id));
    const looks: unknown[] = [];
    for (let t = BASE; t <= at + 20_000; t += 5000)
      for (const k of [...IDS, '10.0.0.0', '10.0.0.1', '10.0.0.2']) {
        const s = fleet.registry.lookup(k, t);
        looks.push(s ? [k, t, s.instanceId, s.labels] : [k, t]);
      }
    for (const role of ['r0', 'r1'])
      for (const v of ['v0', 'v1', 'v2']) looks.push(fleet.registry.members(role, v, BASE, at));
    const instances = fleet.registry.instances().map(({ lastSeenAt: _l, ...i }) => i);
    return { events, looks, instances, roles: fleet.registry.roles() };
  } finally {
    await fleet.stop();
  }
}

describe('fleet registry, replayed', () => {
  it('gives the same events and answers with restarts anywhere as without, each event once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (script) => {
        const straight = await play(script, false);
        const restarted = await play(script, true);
        expect(new Set(straight.events).size).toBe(straight.events.length);
        expect(restarted).toEqual(straight);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
