/** The labelling stage: unknown-instance holding, relabel drops, the records source, flushing. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Labels } from '../../src/core/entry.ts';
import { BackpressureError } from '../../src/core/errors.ts';
import { createFleetLabeller, type FleetLabeller } from '../../src/fleet/labeller.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { metricValue } from '../helpers/deps.ts';
import { recordingSink } from '../helpers/recording-sink.ts';
import { batch, entry, type Fleet, openFleet, registryConfig } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 11, 0, 0);
const same = (l: Labels) => l;
const running = (
  id: string,
  role = 'web',
  version = '1.0.0',
  source: Observation['source'] = 'ec2',
): Observation => ({
  kind: 'running',
  at: T - 60_000,
  source,
  facts: { instanceId: id, role, version },
});
const settledWithin = async (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('fleet labeller', () => {
  let fleet: Fleet | undefined;
  let labeller: FleetLabeller | undefined;
  afterEach(async () => {
    await labeller?.stop();
    await fleet?.stop();
    labeller = undefined;
    fleet = undefined;
  });

  const setup = async (
    registry: Record<string, unknown> = {},
    relabel: (l: Labels) => Labels | null = same,
  ) => {
    const config = registryConfig({ unknown: { hold: '300ms', max_held: 3 }, ...registry });
    fleet = await openFleet({ config });
    const sink = recordingSink();
    labeller = createFleetLabeller(config, fleet.deps, {
      registry: fleet.registry,
      relabel,
      downstream: sink,
    });
    await labeller.start();
    return { sink, registry: fleet.registry, deps: fleet.deps, labeller };
  };

  it('holds a record of an unknown instance until discovery registers it, then gives it real labels', async () => {
    const { sink, registry, deps, labeller } = await setup();
    const done = labeller.consume(batch([entry({ instance_id: 'i-late', msg: 'a' }, T)]));
    expect(await settledWithin(done, 50)).toBe(false);
    expect(sink.entries()).toHaveLength(0);
    registry.observe([running('i-late', 'api', '2.0.0')]);
    await done;
    expect(sink.entries().map((e) => [e.instanceId, e.labels])).toEqual([
      ['i-late', { role: 'api', version: '2.0.0', slot: '0' }],
    ]);
    expect(await metricValue(deps, 'fleetline_fleet_unknown_total', { outcome: 'held' })).toBe(1);
    expect(await metricValue(deps, 'fleetline_fleet_unknown_total', { outcome: 'resolved' })).toBe(
      1,
    );
  });

  it('labels role=unknown once the hold expires for an instance that never becomes known, never dropping it', async () => {
    const { sink, deps, labeller } = await setup();
    const started = Date.now();
    await labeller.consume(batch([entry({ instance_id: 'i-ghost', msg: 'a' }, T)]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sink.entries().map((e) => [e.instanceId, e.labels, e.record.msg])).toEqual([
      [null, { role: 'unknown', version: 'unknown' }, 'a'],
    ]);
    expect(await metricValue(deps, 'fleetline_fleet_unknown_total', { outcome: 'expired' })).toBe(
      1,
    );
  });

  it('holds at most max_held entries; beyond that labels role=unknown at once and counts the overflow', async () => {
    const { sink, registry, deps, labeller } = await setup();
    const first = labeller.consume(
      batch([
        entry({ instance_id: 'i-x', n: 1 }, T),
        entry({ instance_id: 'i-y', n: 2 }, T),
        entry({ instance_id: 'i-z', n: 3 }, T),
      ]),
    );
    expect(await metricValue(deps, 'fleetline_fleet_unknown_held')).toBe(3);
    await labeller.consume(batch([entry({ instance_id: 'i-x', n: 4 }, T)]));
    expect(sink.entries().map((e) => [e.record.n, e.labels?.role])).toEqual([[4, 'unknown']]);
    expect(await metricValue(deps, 'fleetline_fleet_unknown_total', { outcome: 'overflow' })).toBe(
      1,
    );
    registry.observe([running('i-x'), running('i-y'), running('i-z')]);
    await first;
    expect(sink.entries().map((e) => [e.record.n, e.labels?.role])).toEqual([
      [4, 'unknown'],
      [1, 'web'],
      [2, 'web'],
      [3, 'web'],
    ]);
    expect(await metricValue(deps, 'fleetline_fleet_unknown_held')).toBe(0);
  });

  it('labels a record with no identity at all role=unknown at once', async () => {
    const { sink, deps, labeller } = await setup();
    await labeller.consume(batch([entry({ msg: 'anonymous' }, T)], { peerAddress: '192.0.2.9' }));
    expect(sink.entries()[0]?.labels).toEqual({ role: 'unknown', version: 'unknown' });
    expect(
      await metricValue(deps, 'fleetline_fleet_unknown_total', { outcome: 'no_identity' }),
    ).toBe(1);
  });

  it('drops only what relabel drops, counts it, and resolves a fully dropped batch without downstream', async () => {
    const dropApi = (l: Labels): Labels | null =>
      l.role === 'api' ? null : { ...l, team: 'core' };
    const { sink, registry, deps, labeller } = await setup({}, dropApi);
    registry.observe([running('i-web'), running('i-api', 'api')]);
    await labeller.consume(
      batch([entry({ instance_id: 'i-api', n: 1 }, T), entry({ instance_id: 'i-web', n: 2 }, T)]),
    );
    await labeller.consume(batch([entry({ instance_id: 'i-api', n: 3 }, T)]));
    expect(sink.batches).toHaveLength(1);
    expect(sink.entries().map((e) => [e.record.n, e.labels])).toEqual([
      [2, { role: 'web', version: '1.0.0', slot: '0', team: 'core' }],
    ]);
    expect(await metricValue(deps, 'fleetline_fleet_relabel_dropped_total')).toBe(2);
  });

  it('registers an instance from the role/version its records carry, without overriding an authoritative source', async () => {
    const { sink, registry, labeller } = await setup({
      records: { role_key: 'svc', version_key: 'rev' },
    });
    await labeller.consume(batch([entry({ instance_id: 'i-self', svc: 'batch', rev: '7' }, T)]));
    expect(sink.entries()[0]?.labels).toEqual({ role: 'batch', version: '7', slot: '0' });
    expect(registry.instances({ role: 'batch' })).toEqual([
      expect.objectContaining({ instanceId: 'i-self', sources: ['records'], live: true }),
    ]);
    registry.observe([running('i-ec2', 'web', '1.0.0')]);
    await labeller.consume(batch([entry({ instance_id: 'i-ec2', svc: 'other', rev: '9' }, T)]));
    expect(sink.entries()[1]?.labels).toEqual({ role: 'web', version: '1.0.0', slot: '0' });
    // A records-defined instance follows its records to a new version.
    await labeller.consume(
      batch([entry({ instance_id: 'i-self', svc: 'batch', rev: '8' }, T + 1000)]),
    );
    expect(sink.entries()[2]?.labels).toEqual({ role: 'batch', version: '8', slot: '0' });
    expect(registry.lookup('i-self', T)?.version).toBe('7');
  });

  it('passes downstream back-pressure to the caller', async () => {
    const { sink, registry, labeller } = await setup();
    registry.observe([running('i-web')]);
    sink.failWith(new BackpressureError());
    await expect(
      labeller.consume(batch([entry({ instance_id: 'i-web' }, T)])),
    ).rejects.toBeInstanceOf(BackpressureError);
  });

  it('flushes held entries downstream as role=unknown on stop', async () => {
    const { sink, labeller } = await setup({ unknown: { hold: '1h', max_held: 10 } });
    const held = labeller.consume(batch([entry({ host: 'nobody-yet' }, T)]));
    await labeller.stop();
    await held;
    expect(sink.entries().map((e) => e.labels?.role)).toEqual(['unknown']);
  });
});
