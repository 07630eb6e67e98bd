/**
 * The Ansible inventory hostname is the instance id, and with `registry.records` an id can be
 * whatever an agent's record names (an id the registry does not know is registered with the
 * record's role). Ansible templates `{{ inventory_hostname }}` like any variable, so a host named
 * `{{ lookup('pipe', …) }}` runs a command on the operator's machine (checked by hand against
 * ansible-core 2.14), and a host without `ansible_host` is connected to by its name, where a
 * leading `-` is an option to ssh. Such hosts are left out of the Ansible inventory and
 * reported; ssh_config already lists them by their slot alias only.
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
const hostile = [
  "{{ lookup('pipe', 'id') }}",
  '{% if true %}x{% endif %}',
  '-oProxyCommand=sh',
  'two words',
  'a\nb',
  '',
];
const model: GenerationModel = {
  roles: [],
  measurements: [],
  instances: [
    base,
    { ...base, instanceId: 'web01.example.com', slot: 1 },
    { ...base, instanceId: 'i-lost', role: 'unknown', version: 'unknown', slot: 0 },
    ...hostile.map((instanceId, n) => ({ ...base, instanceId, slot: 10 + n })),
    ...hostile.map((instanceId, n) => ({
      ...base,
      instanceId,
      role: 'unknown',
      version: 'unknown',
      slot: 10 + n,
    })),
  ],
};

describe('Ansible inventory host names', () => {
  const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
  const inv = ansibleInventory(model, undefined, notes);
  const listed = new Set(
    Object.entries(inv)
      .filter(([k]) => k !== '_meta' && k !== 'all')
      .flatMap(([, g]) => (g as { hosts?: string[] }).hosts ?? []),
  );

  it('lists only hosts whose name is a plain host name', () => {
    expect(Object.keys(inv._meta.hostvars).sort()).toEqual(['i-lost', 'i-ok', 'web01.example.com']);
    expect([...listed].sort()).toEqual(['i-lost', 'i-ok', 'web01.example.com']);
    expect(JSON.stringify(inv)).not.toContain('lookup');
    expect(JSON.stringify(inv)).not.toContain('ProxyCommand');
  });

  it('reports each host left out', () => {
    expect([...notes.hosts].sort()).toEqual([...hostile, ...hostile].sort());
  });

  it('--host does not answer for them, by id or by slot alias', () => {
    for (const [n, id] of hostile.entries()) {
      expect(ansibleHost(model, id), JSON.stringify(id)).toBeUndefined();
      expect(ansibleHost(model, `web-${10 + n}`), id).toBeUndefined();
    }
    expect(ansibleHost(model, 'web01.example.com')?.ansible_host).toBe('10.0.0.1');
  });

  it('ssh_config still lists them under their slot alias only', () => {
    const text = sshConfig(model);
    expect(text).toContain('Host web-10\n  HostName 10.0.0.1');
    expect(text).not.toContain('lookup');
  });
});
