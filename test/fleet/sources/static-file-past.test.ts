/** The static inventory source: past instances listed with terminated_at only. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createStaticFileSource,
  type StaticFileSource,
} from '../../../src/fleet/sources/static-file.ts';
import { type Fleet, openFleet } from '../fleet-harness.ts';

describe('static inventory file source, past instances', () => {
  let fleet: Fleet | undefined;
  let source: StaticFileSource | undefined;
  afterEach(async () => {
    await source?.stop();
    await fleet?.stop();
  });

  it('ends a past instance without launched_at at its terminated_at, not when the file is read', async () => {
    fleet = await openFleet();
    const path = join(fleet.dir, 'inventory.yaml');
    const ended = Date.now() - 3_600_000;
    writeFileSync(
      path,
      `instances:\n  - { instance_id: i-past, role: web, version: '1', terminated_at: ${ended} }\n`,
    );
    source = createStaticFileSource({ path, reload: '1h' }, fleet.deps, fleet.registry);
    await source.start();
    expect(fleet.registry.instances()).toEqual([
      expect.objectContaining({ instanceId: 'i-past', live: false, terminatedAt: ended }),
    ]);
    expect(fleet.emitted.map((e) => [e.kind, e.time])).toEqual([
      ['launch', ended],
      ['terminate', ended],
    ]);
    expect(fleet.registry.lookup('i-past', ended - 60_000)?.role).toBe('web');
  });
});

describe('static inventory file source, refused', () => {
  it('applies the same file again at the next check when the registry refused it, without throwing', async () => {
    const fleet = await openFleet();
    const path = join(fleet.dir, 'inventory.yaml');
    writeFileSync(path, 'instances:\n  - { instance_id: i-1, role: web }\n');
    let refuse = true;
    const source = createStaticFileSource({ path, reload: '1h' }, fleet.deps, {
      observe(o) {
        if (refuse) throw new Error('SQLITE_FULL: database or disk is full');
        fleet.registry.observe(o);
      },
    });
    try {
      await source.start();
      expect(fleet.registry.liveInstances()).toEqual([]);
      refuse = false;
      expect(await source.check()).toBe(true);
      expect(fleet.registry.liveInstances().map((i) => i.instanceId)).toEqual(['i-1']);
    } finally {
      await source.stop();
      await fleet.stop();
    }
  });
});
