/**
 * Without a prefix, a tag named like one of the template globals Ansible gives Jinja (`lookup`,
 * `query`, `q`, `now`, `undef`, and Jinja's `range`, `dict`, …) would shadow it for that host:
 * a hostvar `lookup: x` makes every `{{ lookup('env', 'HOME') }}` on the host fail with "'str'
 * object is not callable" (ansible-core 2.14, checked by hand). Whoever may tag an instance
 * must not be able to break the operator's plays, so these names are reserved too.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { compileHostvarPolicy, type HostvarNotes, hostVars } from '../../src/generate/inventory.ts';

const GLOBALS = [
  'lookup',
  'query',
  'q',
  'now',
  'undef',
  'range',
  'dict',
  'lipsum',
  'cycler',
  'joiner',
  'namespace',
];

describe('tag hostvars › without a prefix › template globals', () => {
  it('are refused as reserved, so no tag shadows them', () => {
    const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
    const vars = hostVars(
      {
        instanceId: 'i-1',
        role: 'web',
        version: '1.0',
        slot: 0,
        launchedAt: 0,
        attributes: Object.fromEntries([...GLOBALS, 'env'].map((k) => [k, 'x'])),
      },
      compileHostvarPolicy(
        parseConfig({ inventory: { tag_hostvars: ['*'], tag_hostvar_prefix: '' } }).config
          .inventory,
      ),
      notes,
    );
    for (const g of GLOBALS) expect(vars, g).not.toHaveProperty(g);
    expect(Object.fromEntries(notes.refused.map((r) => [r.key, r.reason]))).toEqual(
      Object.fromEntries(GLOBALS.map((g) => [g, 'reserved'])),
    );
    expect(vars.env).toBe('x');
  });
});
