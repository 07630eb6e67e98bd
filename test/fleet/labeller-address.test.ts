/** The labelling stage on an address two live instances share for a while. */
import { afterEach, describe, expect, it } from 'vitest';
import { createFleetLabeller, type FleetLabeller } from '../../src/fleet/labeller.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { recordingSink } from '../helpers/recording-sink.ts';
import { batch, entry, type Fleet, openFleet, registryConfig } from './fleet-harness.ts';

const T = Date.UTC(2026, 10, 27, 11, 0, 0);
const up = (id: string, at: number, version: string): Observation => ({
  kind: 'running',
  at,
  source: 'eventbridge',
  facts: { instanceId: id, role: 'web', version, privateIp: '10.0.0.7' },
});

describe('fleet labeller, shared address', () => {
  let fleet: Fleet | undefined;
  let labeller: FleetLabeller | undefined;
  afterEach(async () => {
    await labeller?.stop();
    await fleet?.stop();
  });

  it('labels each record by the instance that held the address at its time, whatever the order', async () => {
    const config = registryConfig();
    fleet = await openFleet({ config });
    const sink = recordingSink();
    labeller = createFleetLabeller(config, fleet.deps, {
      registry: fleet.registry,
      relabel: (l) => l,
      downstream: sink,
    });
    await labeller.start();
    // i-new took over the IP at T + 10; i-old's end has not been reported yet.
    fleet.registry.observe([up('i-old', T, '1'), up('i-new', T + 10, '2')]);
    const host = 'ip-10-0-0-7';
    await labeller.consume(
      batch([
        entry({ host, n: 1 }, T + 5),
        entry({ host, n: 2 }, T + 15),
        entry({ host, n: 3 }, T + 6),
      ]),
    );
    expect(sink.entries().map((e) => [e.record.n, e.instanceId, e.labels?.version])).toEqual([
      [1, 'i-old', '1'],
      [2, 'i-new', '2'],
      [3, 'i-old', '1'],
    ]);
  });
});
