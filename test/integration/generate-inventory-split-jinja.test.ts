/**
 * A Jinja delimiter split across two tags, under real Ansible: `a: "{"` and
 * `b: "% set x = lookup('pipe', 'touch …') %}"`. Neither value holds `{{`/`{%`/`{#`; a play that
 * joins them into a fact makes a template that runs when the fact is used. The control
 * inventory (both values plain strings) proves the harness catches it; fleetline's `--list`
 * must create no marker.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInventory } from '../../src/generate/cli-inventory.ts';
import type { GenerationModel } from '../../src/generate/model.ts';

const run = promisify(execFile);
const ansiblePlaybook = (process.env.PATH ?? '')
  .split(':')
  .map((d) => join(d, 'ansible-playbook'))
  .find((p) => existsSync(p));

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
  beforeAll(() => {
    if (!ansiblePlaybook)
      throw new Error(
        'ansible-playbook is not on PATH: `npm test` installs it first (scripts/ensure-test-tools.sh)',
      );
  });
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-ansible-split-'));
  const playbook = join(dir, 'play.yml');
  writeFileSync(
    playbook,
    [
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
      '',
    ].join('\n'),
  );

  async function play(inventory: unknown, markers: string) {
    const json = join(markers, 'inventory.json');
    writeFileSync(json, JSON.stringify(inventory));
    const script = join(markers, 'inventory.sh');
    writeFileSync(
      script,
      `#!/bin/sh\nif [ "$1" = "--list" ]; then cat '${json}'; else echo '{}'; fi\n`,
    );
    chmodSync(script, 0o755);
    const output = await run(ansiblePlaybook!, ['-i', script, playbook], {
      env: {
        ...process.env,
        ANSIBLE_HOST_KEY_CHECKING: 'False',
        ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
        ANSIBLE_NOCOLOR: '1',
      },
      timeout: 120_000,
    }).catch((e: { stdout?: string }) => e);
    return {
      stdout: output.stdout ?? '',
      created: readdirSync(markers).filter((f) => f.startsWith('PWNED_')),
    };
  }

  it('the control (both halves plain strings) is attacked', async () => {
    const markers = mkdtempSync(join(dir, 'control-'));
    const t = tags(markers);
    const control = {
      _meta: { hostvars: { 'i-split': { tag_a: t.a, tag_b: t.b } } },
      all: { children: ['ungrouped'] },
      ungrouped: { hosts: ['i-split'] },
    };
    expect((await play(control, markers)).created).toEqual(['PWNED_split']);
  }, 180_000);

  it('fleetline’s inventory with the tags allowed runs nothing and prints the text', async () => {
    const markers = mkdtempSync(join(dir, 'fleetline-'));
    const file = join(markers, 'fleetline.yaml');
    writeFileSync(file, "inventory:\n  tag_hostvars: ['*']\n");
    const out: string[] = [];
    const code = await runInventory(['--list', '--config', file], {
      loadModel: async () => fleet(markers),
      out: (l) => out.push(l),
      err: () => {},
    });
    expect(code).toBe(0);
    const { stdout, created } = await play(JSON.parse(out.join('\n')), markers);
    expect(created).toEqual([]);
    expect(stdout).toContain('"msg": "{% set x = lookup(');
  }, 180_000);
});
