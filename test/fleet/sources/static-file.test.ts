/** The static inventory source: load, reload on change, removal terminates, bad files keep state. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createStaticFileSource,
  type StaticFileSource,
} from '../../../src/fleet/sources/static-file.ts';
import { parseInventory } from '../../../src/fleet/sources/static-inventory.ts';
import { metricValue } from '../../helpers/deps.ts';
import { type Fleet, openFleet, registryConfig } from '../fleet-harness.ts';

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const V1 = `
instances:
  - instance_id: i-web-1
    role: web
    version: 1.4.2
    private_ip: 10.0.1.5
    private_dns: ip-10-0-1-5.ec2.internal
    az: eu-west-1a
    ami: ami-1
    launched_at: 2026-11-27T08:00:00Z
    attributes: { env: prod, tier: 2 }
  - instance_id: i-web-2
    role: web
    version: 1.4.2
    launched_at: 2026-11-27T08:00:00Z
  - instance_id: i-old
    role: web
    version: 1.4.1
    private_ip: 10.0.1.9
    launched_at: 2026-11-26T08:00:00Z
    terminated_at: 2026-11-27T07:00:00Z
`;

describe('static inventory file source', () => {
  let fleet: Fleet | undefined;
  let source: StaticFileSource | undefined;
  afterEach(async () => {
    await source?.stop();
    await fleet?.stop();
    source = undefined;
    fleet = undefined;
  });

  it('loads the file, reloads it when it changes, and terminates an instance removed from it', async () => {
    fleet = await openFleet({ config: registryConfig({ extra_labels: ['env', 'az'] }) });
    const path = join(fleet.dir, 'inventory.yaml');
    writeFileSync(path, V1);
    source = createStaticFileSource({ path, reload: '50ms' }, fleet.deps, fleet.registry);
    await source.start();
    const reg = fleet.registry;
    expect(reg.liveInstances().map((i) => [i.instanceId, i.slot, i.attributes])).toEqual([
      ['i-web-1', 0, { env: 'prod', tier: '2' }],
      ['i-web-2', 1, undefined],
    ]);
    expect(reg.lookup('ip-10-0-1-5', Date.UTC(2026, 10, 27, 9))?.labels).toEqual({
      role: 'web',
      version: '1.4.2',
      slot: '0',
      env: 'prod',
      az: 'eu-west-1a',
    });
    // A past instance: its late records still resolve, by event time, to what it was.
    expect(reg.lookup('10.0.1.9', Date.UTC(2026, 10, 27, 6))).toMatchObject({
      instanceId: 'i-old',
      version: '1.4.1',
    });
    expect(reg.instances({ live: false }).map((i) => [i.instanceId, i.terminatedAt])).toEqual([
      ['i-old', Date.UTC(2026, 10, 27, 7)],
    ]);

    const V2 = V1.replace(/ {2}- instance_id: i-web-2\n(.*\n){3}/, '').replace(
      'instances:\n',
      'instances:\n  - { instance_id: i-web-3, role: web, version: 1.4.3 }\n',
    );
    writeFileSync(path, V2);
    await until(() => reg.liveInstances().some((i) => i.instanceId === 'i-web-3'));
    expect(reg.liveInstances().map((i) => [i.instanceId, i.version, i.slot])).toEqual([
      ['i-web-1', '1.4.2', 0],
      ['i-web-3', '1.4.3', 1],
    ]);
    expect(
      reg
        .instances({ role: 'web', live: false })
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual(['i-old', 'i-web-2']);
    expect(fleet.emitted.filter((e) => e.kind === 'replace')).toEqual([
      expect.objectContaining({
        oldInstanceId: 'i-web-2',
        newInstanceId: 'i-web-3',
        cause: 'release',
      }),
    ]);
    expect(
      await metricValue(fleet.deps, 'fleetline_fleet_static_loads_total', { outcome: 'applied' }),
    ).toBe(2);
  });

  it('keeps the previous inventory when the file becomes invalid or disappears, and counts it', async () => {
    fleet = await openFleet();
    const path = join(fleet.dir, 'inventory.json');
    writeFileSync(path, JSON.stringify([{ instance_id: 'i-1', role: 'db' }]));
    source = createStaticFileSource({ path, reload: '1h' }, fleet.deps, fleet.registry);
    await source.start();
    writeFileSync(path, '[{ "instance_id": "i-1" }]');
    expect(await source.check()).toBe(false);
    writeFileSync(path, '{ not json');
    expect(await source.check()).toBe(false);
    expect(fleet.registry.liveInstances().map((i) => [i.instanceId, i.role, i.version])).toEqual([
      ['i-1', 'db', 'unknown'],
    ]);
    expect(
      await metricValue(fleet.deps, 'fleetline_fleet_static_loads_total', { outcome: 'error' }),
    ).toBe(2);
    writeFileSync(path, '[]');
    expect(await source.check()).toBe(true);
    expect(fleet.registry.liveInstances()).toEqual([]);
  });
});

describe('static inventory format', () => {
  it('names every problem with its path', () => {
    const r = parseInventory(`
instances:
  - instance_id: i-1
    colour: blue
  - role: web
    launched_at: yesterday
  - instance_id: i-1
    role: web
    attributes: [x]
`);
    expect(r).toEqual({
      ok: false,
      errors: [
        'instances[0].colour: unknown key',
        'instances[0].role: required',
        'instances[1].instance_id: required',
        'instances[1].launched_at: must be an ISO 8601 time or epoch milliseconds',
        'instances[2].attributes: must be a mapping of strings',
        'instances[2].instance_id: duplicate i-1',
      ],
    });
  });

  it('accepts a bare list, JSON, epoch milliseconds and an empty file', () => {
    expect(parseInventory('[{"instance_id":"i-1","role":"web","launched_at":1000}]')).toEqual({
      ok: true,
      instances: [{ instanceId: 'i-1', role: 'web', launchedAt: 1000 }],
    });
    expect(parseInventory('')).toEqual({ ok: true, instances: [] });
    expect(parseInventory('instances: 3')).toEqual({
      ok: false,
      errors: ['instances: must be a list'],
    });
  });
});
