/**
 * An instance id naming the control machine. With `registry.records` an id is whatever an
 * agent's record names, and an agent whose hostname is `localhost` (a container's default) is
 * not even hostile. Once `localhost` is an inventory host, Ansible no longer uses its implicit
 * local connection for it: every `delegate_to: localhost` / `local_action` task of the
 * operator's plays goes over ssh to localhost with that host's vars (unreachable on a machine
 * without sshd: checked by hand, ansible-core 2.14), and `hosts: role_web` runs the role's
 * tasks on the operator's own machine where it has sshd. Such ids are left out like the other
 * odd ones, and never become an ssh_config Host pattern.
 */
import { describe, expect, it } from 'vitest';
import {
  ansibleHost,
  ansibleInventory,
  type HostvarNotes,
  sshConfig,
} from '../../src/generate/inventory.ts';
import type { GenerationModel, InstanceModel } from '../../src/generate/model.ts';

const base: InstanceModel = {
  instanceId: 'i-ok',
  role: 'web',
  version: '1.0',
  slot: 0,
  privateIp: '10.0.0.1',
  launchedAt: 0,
};
const local = [
  'localhost',
  'LocalHost',
  'localhost.localdomain',
  'app.localhost',
  '127.0.0.1',
  '127.1.2.3',
  '0.0.0.0',
];
const model: GenerationModel = {
  roles: [],
  measurements: [],
  instances: [
    base,
    { ...base, instanceId: 'localhost-7', slot: 1 },
    { ...base, instanceId: '10.0.0.9', slot: 2 },
    ...local.map((instanceId, n) => ({ ...base, instanceId, slot: 10 + n })),
  ],
};

describe('Ansible inventory host names › the control machine', () => {
  const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
  const inv = ansibleInventory(model, undefined, notes);

  it('leaves out ids naming the local machine, and reports them', () => {
    expect(Object.keys(inv._meta.hostvars).sort()).toEqual(['10.0.0.9', 'i-ok', 'localhost-7']);
    expect((inv.role_web as { hosts: string[] }).hosts).toEqual([
      '10.0.0.9',
      'i-ok',
      'localhost-7',
    ]);
    expect([...notes.hosts].sort()).toEqual([...local].sort());
  });

  it('--host does not answer for them', () => {
    for (const id of local) expect(ansibleHost(model, id), id).toBeUndefined();
  });

  it('ssh_config lists them under their slot alias only', () => {
    const text = sshConfig(model);
    for (const id of local)
      expect(text, id).not.toMatch(new RegExp(`^Host .* ${id.replaceAll('.', '\\.')}$`, 'm'));
    expect(text).toContain('Host web-10\n  HostName 10.0.0.1');
  });
});
