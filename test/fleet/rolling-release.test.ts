/**
 * A scripted rolling release through the real labelling stage, registry and SQLite store:
 * 3 roles, 10 instances, every instance replaced (terminate, then launch) while 1.4.2 → 1.4.3.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Labels } from '../../src/core/entry.ts';
import { createFleetLabeller } from '../../src/fleet/labeller.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { recordingSink } from '../helpers/recording-sink.ts';
import { batch, entry, type Fleet, openFleet, registryConfig } from './fleet-harness.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const MIN = 60_000;

interface Old {
  id: string;
  role: string;
  ip: string;
  slot: number;
}

// web is addressed by instance_id in records, api by short hostname, worker by the Forward
// peer address; worker replacements reuse their predecessor's private IP.
const ROLES: Record<string, number> = { web: 4, api: 3, worker: 3 };
const fleetOf = (): Old[] => {
  const out: Old[] = [];
  let n = 0;
  for (const [role, size] of Object.entries(ROLES))
    for (let s = 0; s < size; s++)
      out.push({ id: `i-old-${role}-${s}`, role, ip: `10.0.1.${++n}`, slot: s });
  return out;
};
const newIdOf = (o: Old) => o.id.replace('old', 'new');
const newIpOf = (o: Old) => (o.role === 'worker' ? o.ip : o.ip.replace('10.0.1.', '10.0.2.'));
const dnsOf = (ip: string) => `ip-${ip.replaceAll('.', '-')}.ec2.internal`;
const running = (
  id: string,
  role: string,
  version: string,
  ip: string,
  at: number,
): Observation => ({
  kind: 'running',
  at,
  launchedAt: at,
  source: 'eventbridge',
  facts: { instanceId: id, role, version, privateIp: ip, privateDns: dnsOf(ip), az: 'eu-west-1a' },
});

const addEnv = (l: Labels): Labels => ({ ...l, env: 'prod' });

describe('rolling release 1.4.2 → 1.4.3 over 3 roles and 10 instances', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('pairs every replacement, inherits slots, tracks the rollout and labels records by event time; state survives a restart', async () => {
    const config = registryConfig({ extra_labels: ['az'] });
    fleet = await openFleet({ config });
    const { registry } = fleet;
    const sink = recordingSink();
    const labeller = createFleetLabeller(config, fleet.deps, {
      registry,
      relabel: addEnv,
      downstream: sink,
    });
    await labeller.start();

    const olds = fleetOf();
    registry.observe(olds.map((o) => running(o.id, o.role, '1.4.2', o.ip, T0)));
    expect(registry.liveInstances().map((i) => [i.instanceId, i.slot])).toEqual(
      [...olds]
        .sort((a, b) => a.role.localeCompare(b.role) || a.slot - b.slot)
        .map((o) => [o.id, o.slot]),
    );

    const send = (o: { id: string; role: string; ip: string }, at: number) => {
      if (o.role === 'web')
        return labeller.consume(batch([entry({ instance_id: o.id, msg: 'x' }, at)]));
      if (o.role === 'api')
        return labeller.consume(batch([entry({ host: dnsOf(o.ip).split('.')[0]!, msg: 'x' }, at)]));
      return labeller.consume(batch([entry({ msg: 'x' }, at)], { peerAddress: o.ip }));
    };

    // Replace instance k of every role at T0 + 10 min + k * 5 min: terminate, then launch 30 s later.
    const swaps: { old: Old; terminatedAt: number; launchedAt: number }[] = [];
    for (let k = 0; k < 4; k++) {
      for (const o of olds.filter((x) => x.slot === k)) {
        const terminatedAt =
          T0 + 10 * MIN + k * 5 * MIN + Object.keys(ROLES).indexOf(o.role) * 1000;
        const launchedAt = terminatedAt + 30_000;
        await send(o, terminatedAt - 1000); // just before its end: old labels
        registry.observe([
          { kind: 'terminated', at: terminatedAt, instanceId: o.id, source: 'eventbridge' },
        ]);
        registry.observe([running(newIdOf(o), o.role, '1.4.3', newIpOf(o), launchedAt)]);
        await send({ id: newIdOf(o), role: o.role, ip: newIpOf(o) }, launchedAt + 1000);
        swaps.push({ old: o, terminatedAt, launchedAt });
      }
    }
    // Late records, buffered by the agents during the swap, from instances already terminated.
    for (const s of swaps) await send(s.old, s.terminatedAt - 2 * MIN);

    const events = fleet.emitted;
    const of = (kind: LifecycleEvent['kind']) => events.filter((e) => e.kind === kind);
    expect(of('launch')).toHaveLength(20);
    expect(of('terminate')).toHaveLength(10);
    expect(
      of('replace')
        .map((e) => [
          e.role,
          e.oldInstanceId,
          e.newInstanceId,
          e.slot,
          e.cause,
          e.oldVersion,
          e.newVersion,
        ])
        .sort(),
    ).toEqual(
      olds.map((o) => [o.role, o.id, newIdOf(o), o.slot, 'release', '1.4.2', '1.4.3']).sort(),
    );
    const rollout = events
      .filter((e) => e.kind.startsWith('rollout_'))
      .map((e) => [
        e.role,
        e.kind,
        e.oldVersion,
        e.newVersion,
        e.progress?.done,
        e.progress?.total,
      ]);
    expect(rollout.filter((r) => r[0] === 'web')).toEqual([
      ['web', 'rollout_start', '1.4.2', '1.4.3', 1, 4],
      ['web', 'rollout_progress', '1.4.2', '1.4.3', 2, 4],
      ['web', 'rollout_progress', '1.4.2', '1.4.3', 3, 4],
      // Finished as the last 1.4.2 member terminates, before its replacement launches.
      ['web', 'rollout_finish', '1.4.2', '1.4.3', 3, 3],
    ]);
    for (const role of ['api', 'worker'])
      expect(rollout.filter((r) => r[0] === role)).toEqual([
        [role, 'rollout_start', '1.4.2', '1.4.3', 1, 3],
        [role, 'rollout_progress', '1.4.2', '1.4.3', 2, 3],
        [role, 'rollout_finish', '1.4.2', '1.4.3', 2, 2],
      ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // Slots: every replacement holds its predecessor's slot; nothing beyond the role size.
    for (const o of olds) {
      const now = registry.lookup(newIdOf(o), T0 + 60 * MIN);
      expect(now?.slot).toBe(o.slot);
    }
    expect(registry.roles()).toEqual([
      { role: 'api', versions: ['1.4.3'], members: 3, slots: [0, 1, 2] },
      { role: 'web', versions: ['1.4.3'], members: 4, slots: [0, 1, 2, 3] },
      { role: 'worker', versions: ['1.4.3'], members: 3, slots: [0, 1, 2] },
    ]);

    // Labels on every record: 10 before-swap, 10 after, 10 late; by event time.
    const got = sink.entries();
    expect(got).toHaveLength(30);
    const expected = [
      ...swaps.flatMap((s) => [
        { id: s.old.id, role: s.old.role, version: '1.4.2', slot: s.old.slot },
        { id: newIdOf(s.old), role: s.old.role, version: '1.4.3', slot: s.old.slot },
      ]),
      ...swaps.map((s) => ({ id: s.old.id, role: s.old.role, version: '1.4.2', slot: s.old.slot })),
    ];
    expect(got.map((e) => [e.instanceId, e.labels])).toEqual(
      expected.map((x) => [
        x.id,
        { role: x.role, version: x.version, slot: String(x.slot), az: 'eu-west-1a', env: 'prod' },
      ]),
    );
    expect(got.every((e) => !('instance_id' in (e.labels ?? {})))).toBe(true);

    // Members in a window: during web's swap of slot 0 both versions were live.
    const w0 = swaps[0]!;
    expect(registry.members('web', '1.4.2', T0, w0.terminatedAt + 1)).toBe(4);
    expect(registry.members('web', '1.4.3', T0, w0.terminatedAt + 1)).toBe(0);
    expect(registry.members('web', '1.4.3', w0.launchedAt, w0.launchedAt + 1)).toBe(1);
    expect(registry.members('web', '1.4.2', T0 + 59 * MIN, T0 + 60 * MIN)).toBe(0);

    await labeller.stop();
    const dir = fleet.dir;
    const stored = fleet.events.query({ limit: 1000 }).events;
    expect(stored.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    await fleet.stop();

    // Restart from the same SQLite file.
    fleet = await openFleet({ dir, config });
    const again = fleet.registry;
    expect(again.roles()).toEqual(registry.roles());
    expect(again.liveInstances()).toEqual(registry.liveInstances());
    expect(again.lookup('i-old-web-2', w0.terminatedAt)).toMatchObject({
      role: 'web',
      version: '1.4.2',
      slot: 2,
    });
    // The worker IP was reused: before the swap it names the old instance, after it the new.
    const w = swaps.find((s) => s.old.role === 'worker')!;
    expect(again.lookup(w.old.ip, w.terminatedAt - 1)?.instanceId).toBe(w.old.id);
    expect(again.lookup(w.old.ip, w.launchedAt + 1)?.instanceId).toBe(newIdOf(w.old));
    // Re-reporting what is already known changes nothing.
    again.observe(olds.map((o) => running(newIdOf(o), o.role, '1.4.3', newIpOf(o), T0 + 61 * MIN)));
    expect(fleet.emitted).toEqual([]);
    // The tracker's pending state survived: a fault replacement after the restart still pairs.
    const at = T0 + 70 * MIN;
    again.observe([{ kind: 'terminated', at, instanceId: 'i-new-api-1', source: 'eventbridge' }]);
    again.observe([running('i-fresh-api', 'api', '1.4.3', '10.0.3.1', at + 20_000)]);
    expect(fleet.emitted.find((e) => e.kind === 'replace')).toMatchObject({
      oldInstanceId: 'i-new-api-1',
      newInstanceId: 'i-fresh-api',
      slot: 1,
      cause: 'fault',
    });
  });
});
