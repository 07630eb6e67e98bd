/**
 * Fleetline's own hostvars (`az`, `private_ip`, `private_dns`, …) are set only when the registry
 * knows them. A tag must never take one of those names, also on a host where fleetline has
 * nothing to put there: otherwise a play reading `private_ip` gets the registry's address on
 * one host and whatever someone tagged on the next.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { compileHostvarPolicy, type HostvarNotes, hostVars } from '../../src/generate/inventory.ts';

const OWN = [
  'instance_id',
  'role',
  'version',
  'slot',
  'slot_alias',
  'launched_at',
  'az',
  'private_ip',
  'private_dns',
];

const policy = (prefix: string) =>
  compileHostvarPolicy(
    parseConfig({ inventory: { tag_hostvars: ['*'], tag_hostvar_prefix: prefix } }).config
      .inventory,
  );

describe('tag hostvars › fleetline’s own names', () => {
  it('are refused even on a host without az or addresses', () => {
    const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
    const vars = hostVars(
      {
        instanceId: 'i-1',
        role: 'web',
        version: '1.0',
        slot: 0,
        launchedAt: 0,
        attributes: Object.fromEntries([...OWN, 'env'].map((k) => [k, '203.0.113.9'])),
      },
      policy(''),
      notes,
    );
    expect(vars).not.toHaveProperty('az');
    expect(vars).not.toHaveProperty('private_ip');
    expect(vars).not.toHaveProperty('private_dns');
    expect(vars.role).toBe('web');
    expect(Object.fromEntries(notes.refused.map((r) => [r.key, r.reason]))).toEqual(
      Object.fromEntries(OWN.map((k) => [k, 'collision'])),
    );
    expect(vars.env).toBe('203.0.113.9');
  });

  it('are refused whatever prefix leads to them', () => {
    const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
    const vars = hostVars(
      {
        instanceId: 'i-1',
        role: 'web',
        version: '1.0',
        slot: 0,
        launchedAt: 0,
        attributes: { ip: 'x' },
      },
      policy('private_'),
      notes,
    );
    expect(vars).not.toHaveProperty('private_ip');
    expect(notes.refused).toMatchObject([{ key: 'ip', name: 'private_ip', reason: 'collision' }]);
  });
});
