/**
 * An instance id equal to a group name. When a pattern names both a group and a host, Ansible
 * takes the host (`ansible -i … role_db --list-hosts` lists only the host `role_db`, with the
 * warning "Found both group and host with same name", ansible-core 2.14 checked by hand). So a
 * record naming its instance `role_db` would take every play aimed at the db role away from the
 * db hosts. Group names are `all`, `ungrouped`, `role_…` and `version_…`: ids of that form are
 * left out like the other odd ones.
 */
import { describe, expect, it } from 'vitest';
import { ansibleHost, ansibleInventory, type HostvarNotes } from '../../src/generate/inventory.ts';
import type { GenerationModel, InstanceModel } from '../../src/generate/model.ts';

const base: InstanceModel = {
  instanceId: 'i-db',
  role: 'db',
  version: '2.0',
  slot: 0,
  privateIp: '10.0.0.1',
  launchedAt: 0,
};
const groupLike = ['role_db', 'version_2_0', 'role_db_version_2_0', 'all', 'ungrouped'];
const model: GenerationModel = {
  roles: [],
  measurements: [],
  instances: [
    base,
    { ...base, instanceId: 'roles-1', role: 'web', slot: 1 },
    ...groupLike.map((instanceId, n) => ({ ...base, instanceId, role: 'web', slot: 10 + n })),
  ],
};

describe('Ansible inventory host names › group names', () => {
  const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
  const inv = ansibleInventory(model, undefined, notes);
  const groups = Object.keys(inv).filter((k) => k !== '_meta');

  it('no host has the name of a group', () => {
    for (const h of Object.keys(inv._meta.hostvars)) expect(groups, h).not.toContain(h);
    expect(Object.keys(inv._meta.hostvars).sort()).toEqual(['i-db', 'roles-1']);
    expect((inv.role_db as { hosts: string[] }).hosts).toEqual(['i-db']);
  });

  it('reports the ids left out, and --host does not answer for them', () => {
    expect([...notes.hosts].sort()).toEqual([...groupLike].sort());
    for (const id of groupLike) expect(ansibleHost(model, id), id).toBeUndefined();
  });
});
