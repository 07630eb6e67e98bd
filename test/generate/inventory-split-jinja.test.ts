/**
 * A Jinja start delimiter split across two hostvars: `tag_a: "{"`, `tag_b: "% set x =
 * lookup('pipe', …) %}"`. Neither holds `{{`, `{%` or `{#`, but a play that joins them
 * (`set_fact: x: "{{ tag_a }}{{ tag_b }}"`) gets a template, which Ansible runs when `x` is
 * used (checked by hand on ansible-core 2.14, and under real Ansible in
 * test/integration/generate-inventory-split-jinja.test.ts). Ansible marks a template's result
 * unsafe when any value it used was unsafe, so every value holding a `{` must be one.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { compileHostvarPolicy, type HostvarNotes, hostVars } from '../../src/generate/inventory.ts';
import type { InstanceModel } from '../../src/generate/model.ts';

const policy = compileHostvarPolicy(
  parseConfig({ inventory: { tag_hostvars: ['*'] } }).config.inventory,
);

const instance = (attributes: Record<string, string>, version = '1.0'): InstanceModel => ({
  instanceId: 'i-1',
  role: 'web',
  version,
  slot: 0,
  privateIp: '10.0.0.1',
  launchedAt: 0,
  attributes,
});

describe('hostvars › a Jinja delimiter split across values', () => {
  it('marks unsafe every value that could start or end one half of a delimiter', () => {
    const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
    const vars = hostVars(
      instance({ a: '{', b: "% set x = lookup('pipe', 'id') %}", c: 'x{', d: '{ 1 }}' }),
      policy,
      notes,
    );
    expect(vars.tag_a).toEqual({ __ansible_unsafe: '{' });
    expect(vars.tag_c).toEqual({ __ansible_unsafe: 'x{' });
    expect(vars.tag_d).toEqual({ __ansible_unsafe: '{ 1 }}' });
    expect(notes.inert).toBe(3);
  });

  it('covers fleetline’s own vars too (a version from a record ending in `{`)', () => {
    const vars = hostVars(instance({}, '1.0{'), policy);
    expect(vars.version).toEqual({ __ansible_unsafe: '1.0{' });
  });

  it('leaves values without `{` plain', () => {
    const vars = hostVars(instance({ a: 'prod', b: '100%', c: '}} #' }), policy);
    expect(vars).toMatchObject({ tag_a: 'prod', tag_b: '100%', tag_c: '}} #' });
  });
});
