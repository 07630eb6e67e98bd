/**
 * Ansible group names squash punctuation to `_`, so different roles (or versions) can map to
 * the same name: each must still get a group of its own, or a play aimed at one role would
 * also run on the other's hosts.
 */
import { describe, expect, it } from 'vitest';
import { ansibleInventory } from '../../src/generate/inventory.ts';
import type { GenerationModel, InstanceModel } from '../../src/generate/model.ts';

const host = (instanceId: string, role: string, version: string, slot = 0): InstanceModel => ({
  instanceId,
  role,
  version,
  slot,
  privateIp: '10.0.0.1',
  launchedAt: 0,
});

const model: GenerationModel = {
  roles: [],
  measurements: [],
  instances: [
    host('i-1', 'api-v2', '1.0'),
    host('i-2', 'api_v2', '1.0'),
    host('i-3', 'web', '1.4.2'),
    host('i-4', 'web', '1-4-2', 1),
    host('i-5', 'db', '2.0'),
  ],
};

describe('Ansible groups of roles whose safe names coincide', () => {
  const inv = ansibleInventory(model);
  const groups = Object.entries(inv).filter(
    ([k]) => k !== '_meta' && k !== 'all' && k !== 'ungrouped',
  ) as [string, { hosts: string[] }][];

  it('never put hosts of different roles or versions into one group', () => {
    const roleOf = new Map(model.instances.map((i) => [i.instanceId, i]));
    for (const [name, g] of groups) {
      const kind = name.startsWith('version_')
        ? 'version'
        : name.includes('_version_')
          ? 'both'
          : 'role';
      const keys = new Set(
        g.hosts.map((h) => {
          const i = roleOf.get(h)!;
          return kind === 'role'
            ? i.role
            : kind === 'version'
              ? i.version
              : `${i.role}\u0000${i.version}`;
        }),
      );
      expect(keys.size, `${name}: ${g.hosts.join(', ')}`).toBe(1);
    }
  });

  it('keeps plain names for groups that do not collide', () => {
    expect(inv.role_db).toEqual({ hosts: ['i-5'] });
    expect(inv.version_2_0).toEqual({ hosts: ['i-5'] });
    expect(inv.role_web).toEqual({ hosts: ['i-3', 'i-4'] });
  });

  it('lists every group under all and gives every host a role group', () => {
    expect(new Set(inv.all.children)).toEqual(new Set(['ungrouped', ...groups.map(([n]) => n)]));
    const inRoleGroups = groups
      .filter(([n]) => n.startsWith('role_') && !n.includes('_version_'))
      .flatMap(([, g]) => g.hosts);
    expect(inRoleGroups.sort()).toEqual(['i-1', 'i-2', 'i-3', 'i-4', 'i-5']);
  });
});
