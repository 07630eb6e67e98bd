/** The labelling stage when the registry cannot take what the records say. */
import { afterEach, describe, expect, it } from 'vitest';
import { createFleetLabeller, type FleetLabeller } from '../../src/fleet/labeller.ts';
import type { FleetRegistry } from '../../src/fleet/registry.ts';
import { recordingSink } from '../helpers/recording-sink.ts';
import { batch, entry, type Fleet, openFleet, registryConfig } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 11, 0, 0);

describe('fleet labeller, registry failure', () => {
  let fleet: Fleet | undefined;
  let labeller: FleetLabeller | undefined;
  afterEach(async () => {
    await labeller?.stop();
    await fleet?.stop();
  });

  it('still delivers the records, never throws from consume, and reports the instance again later', async () => {
    const config = registryConfig({
      unknown: { hold: '0s', max_held: 10 },
      records: { role_key: 'svc', version_key: 'rev' },
    });
    fleet = await openFleet({ config });
    const real = fleet.registry;
    let broken = true;
    const registry: FleetRegistry = {
      ...real,
      observe(o) {
        if (broken) throw new Error('SQLITE_FULL: database or disk is full');
        real.observe(o);
      },
    };
    const sink = recordingSink();
    labeller = createFleetLabeller(config, fleet.deps, {
      registry,
      relabel: (l) => l,
      downstream: sink,
    });
    await labeller.start();
    let done: Promise<void> | undefined;
    expect(() => {
      done = labeller!.consume(
        batch([entry({ instance_id: 'i-r', svc: 'batch', rev: '7', n: 1 }, T)]),
      );
    }).not.toThrow();
    await done;
    expect(sink.entries().map((e) => [e.record.n, e.labels?.role])).toEqual([[1, 'unknown']]);
    broken = false;
    await labeller.consume(
      batch([entry({ instance_id: 'i-r', svc: 'batch', rev: '7', n: 2 }, T + 1)]),
    );
    expect(sink.entries().map((e) => [e.record.n, e.labels?.role])).toEqual([
      [1, 'unknown'],
      [2, 'batch'],
    ]);
  });
});
