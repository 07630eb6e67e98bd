import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  ansibleHost,
  ansibleInventory,
  compileHostvarPolicy,
  hostList,
  safeGroupName,
  sshConfig,
} from '../../src/generate/inventory.ts';
import { inventoryModel } from './inventory-fixture.ts';

/**
 * The structure `ansible-inventory --list` accepts from a dynamic inventory script: a map of
 * group name → {hosts?: [name], children?: [group], vars?: {}}, plus `_meta.hostvars`.
 */
const ansibleListSchema = {
  type: 'object',
  required: ['_meta', 'all'],
  properties: {
    _meta: {
      type: 'object',
      required: ['hostvars'],
      properties: {
        hostvars: { type: 'object', additionalProperties: { type: 'object' } },
      },
    },
  },
  propertyNames: { pattern: '^(_meta|[A-Za-z_][A-Za-z0-9_]*)$' },
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: {
      hosts: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
      children: { type: 'array', items: { type: 'string' }, uniqueItems: true },
      vars: { type: 'object' },
    },
  },
};

describe('Ansible dynamic inventory', () => {
  const inv = ansibleInventory(inventoryModel);

  it('--list validates against the dynamic-inventory structure', () => {
    const validate = new Ajv({ allErrors: true }).compile(ansibleListSchema);
    expect(validate(inv), JSON.stringify(validate.errors)).toBe(true);
  });

  it('groups hosts by role, version and role+version with safe names', () => {
    expect(inv.role_web).toEqual({ hosts: ['i-new', 'i-web0', 'i-web2'] });
    expect(inv.version_1_4_2).toEqual({ hosts: ['i-web0', 'i-web2'] });
    expect(inv.role_web_version_1_4_3).toEqual({ hosts: ['i-new'] });
    expect(inv.role_db_primary).toEqual({ hosts: ['i-db0'] });
    expect(inv.all.children).toEqual([
      'ungrouped',
      'role_db_primary',
      'role_db_primary_version_2_0',
      'role_web',
      'role_web_version_1_4_2',
      'role_web_version_1_4_3',
      'version_1_4_2',
      'version_1_4_3',
      'version_2_0',
    ]);
  });

  it('every group a host is in, and every child, exists; unresolved hosts are ungrouped', () => {
    expect(inv.ungrouped.hosts).toEqual(['i-lost']);
    for (const child of inv.all.children) expect(inv[child], child).toBeDefined();
    const grouped = Object.entries(inv)
      .filter(([k]) => k !== '_meta' && k !== 'all')
      .flatMap(([, g]) => (g as { hosts?: string[] }).hosts ?? []);
    expect(new Set(grouped)).toEqual(new Set(Object.keys(inv._meta.hostvars)));
  });

  it('hostvars carry id, addresses, az, slot, version and ansible_host', () => {
    expect(inv._meta.hostvars['i-new']).toEqual({
      instance_id: 'i-new',
      role: 'web',
      version: '1.4.3',
      slot: 1,
      slot_alias: 'web-1',
      az: 'eu-west-1b',
      private_ip: '10.0.1.11',
      private_dns: 'ip-10-0-1-11.eu-west-1.compute.internal',
      ansible_host: '10.0.1.11',
      launched_at: '2026-11-27T09:05:00.000Z',
    });
    expect(inv._meta.hostvars['i-web2']?.ansible_host).toBe(
      'ip-10-0-1-12.eu-west-1.compute.internal',
    );
    // Attributes (EC2 tags) are hostvars only when inventory.tag_hostvars allows them, and
    // then under inventory.tag_hostvar_prefix (inventory-tag-hostvars.test.ts).
    expect(inv._meta.hostvars['i-db0']).not.toHaveProperty('env');
    const allowed = ansibleInventory(
      inventoryModel,
      compileHostvarPolicy({ tag_hostvars: ['env'], tag_hostvar_prefix: 'tag_' }),
    );
    expect(allowed._meta.hostvars['i-db0']?.tag_env).toBe('prod');
    expect(inv._meta.hostvars['i-lost']).not.toHaveProperty('ansible_host');
  });

  it('--host returns that host’s vars, by id or slot alias; unknown is undefined', () => {
    expect(ansibleHost(inventoryModel, 'i-web0')).toEqual(inv._meta.hostvars['i-web0']);
    expect(ansibleHost(inventoryModel, 'web-1')?.instance_id).toBe('i-new');
    expect(ansibleHost(inventoryModel, 'nope')).toBeUndefined();
  });

  it('group names never start with a digit or contain punctuation', () => {
    expect(safeGroupName('9lives')).toBe('_9lives');
    expect(safeGroupName('role', 'a.b-c d')).toBe('role_a_b_c_d');
  });
});

describe('ssh_config and host list', () => {
  it('has one Host per addressable instance with the <role>-<slot> alias', () => {
    const text = sshConfig(inventoryModel);
    expect(text).toContain('Host web-1 i-new\n  HostName 10.0.1.11\n');
    expect(text).toContain(
      'Host web-2 i-web2\n  HostName ip-10-0-1-12.eu-west-1.compute.internal\n',
    );
    expect(text).toContain('Host db-primary-0 i-db0\n');
    expect(text.match(/^Host /gm)).toHaveLength(4);
    expect(text).toContain('# i-lost (role unknown, version unknown, slot 0): no private address');
  });

  it('lists hosts sorted by role and slot', () => {
    expect(hostList(inventoryModel).map((h) => h.alias)).toEqual([
      'db-primary-0',
      'unknown-0',
      'web-0',
      'web-1',
      'web-2',
    ]);
  });
});
