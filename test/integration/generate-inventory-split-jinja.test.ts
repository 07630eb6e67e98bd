/**
 * A Jinja delimiter split across two tags, under real Ansible: `a: "{"` and
 * `b: "% set x = lookup('pipe', 'touch …') %}"`. Neither value holds `{{`/`{%`/`{#`; a play that
 * joins them into a fact makes a template that runs when the fact is used. The control
 * inventory (both values plain strings) proves the harness catches it; fleetline's `--list`
 * must create no marker.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInventory } from '../../src/generate/cli-inventory.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { usePlaybook } from '../helpers/ansible.ts';

const tags = (markers: string) => ({
  a: '{',
  b: `% set x = lookup('pipe', 'touch ${join(markers, 'PWNED_split')}') %}`,
});

function fleet(markers: string): GenerationModel {
  return {
    roles: [],
    measurements: [],
    instances: [
      {
        instanceId: 'i-split',
        role: 'web',
        version: '1.0',
        slot: 0,
        privateIp: '127.0.0.1',
        launchedAt: 0,
        attributes: tags(markers),
      },
    ],
  };
}

describe('fleetline inventory under real Ansible › a delimiter split across tags', () => {
  const ansible = usePlaybook('split', [
    '- hosts: all',
    '  gather_facts: false',
    '  tasks:',
    '    - set_fact:',
    '        joined: "{{ tag_a }}{{ tag_b }}"',
    '      delegate_to: localhost',
    '      vars: { ansible_connection: local }',
    '    - debug:',
    '        msg: "{{ joined }}"',
    '      delegate_to: localhost',
    '      vars: { ansible_connection: local }',
  ]);

  it('the control (both halves plain strings) is attacked', async () => {
    const markers = ansible.markersDir('control');
    const t = tags(markers);
    const control = {
      _meta: { hostvars: { 'i-split': { tag_a: t.a, tag_b: t.b } } },
      all: { children: ['ungrouped'] },
      ungrouped: { hosts: ['i-split'] },
    };
    expect((await ansible.play(control, markers)).created).toEqual(['PWNED_split']);
  }, 180_000);

  it('fleetline’s inventory with the tags allowed runs nothing and prints the text', async () => {
    const markers = ansible.markersDir('fleetline');
    const file = join(markers, 'fleetline.yaml');
    writeFileSync(file, "inventory:\n  tag_hostvars: ['*']\n");
    const out: string[] = [];
    const code = await runInventory(['--list', '--config', file], {
      loadModel: async () => fleet(markers),
      out: (l) => out.push(l),
      err: () => {},
    });
    expect(code).toBe(0);
    const { stdout, created } = await ansible.play(JSON.parse(out.join('\n')), markers);
    expect(created).toEqual([]);
    expect(stdout).toContain('"msg": "{% set x = lookup(');
  }, 180_000);
});
