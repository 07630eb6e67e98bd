/**
 * What real Ansible does with fleetline's inventory (`ansible-playbook` is no npm dependency:
 * `npm test` installs Debian's ansible-core first, scripts/ensure-test-tools.sh). The hostile
 * fleet: an EC2 tag `ansible_ssh_common_args: -o ProxyCommand=…`, Jinja in a tag, in the version
 * and in an instance id. Each payload would create a marker file on this machine. A control
 * inventory that copies tags as hostvars the way fleetline used to proves the harness catches
 * the attack; the JSON of `fleetline inventory --list` must create no marker, even with every
 * tag allowed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInventory } from '../../src/generate/cli-inventory.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { usePlaybook } from '../helpers/ansible.ts';

/** The hostile fleet; each payload would create `PWNED_<what>` in `markers`. */
function hostileFleet(markers: string): GenerationModel {
  const touch = (what: string) => `{{ lookup('pipe', 'touch ${join(markers, `PWNED_${what}`)}') }}`;
  const proxy = `-o ProxyCommand="sh -c 'touch ${join(markers, 'PWNED_proxy')}; exit 1'"`;
  return {
    roles: [],
    measurements: [],
    instances: [
      {
        instanceId: 'i-tagged',
        role: 'web',
        version: touch('version'),
        slot: 0,
        privateIp: '127.0.0.1',
        launchedAt: 0,
        attributes: { ansible_ssh_common_args: proxy, note: touch('tag'), env: 'prod' },
      },
      {
        instanceId: touch('hostname'),
        role: 'web',
        version: '1.0',
        slot: 1,
        privateIp: '127.0.0.1',
        launchedAt: 0,
      },
    ],
  };
}

describe('fleetline inventory under real Ansible', () => {
  const ansible = usePlaybook('hostile', [
    '- hosts: all',
    '  gather_facts: false',
    '  tasks:',
    '    - ping:',
    '      ignore_unreachable: true',
    '    - debug:',
    `        msg: "{{ inventory_hostname }} {{ version }} {{ note | default('') }} {{ tag_note | default('') }}"`,
    '      delegate_to: localhost',
    '      vars: { ansible_connection: local }',
  ]);

  it('the control (tags copied as hostvars, ids as host names) is attacked', async () => {
    const markers = ansible.markersDir('control');
    const [tagged, named] = hostileFleet(markers).instances;
    const control = {
      _meta: {
        hostvars: {
          [tagged!.instanceId]: {
            ...tagged!.attributes,
            version: tagged!.version,
            ansible_host: '127.0.0.1',
          },
          [named!.instanceId]: { version: '1.0', ansible_host: '127.0.0.1' },
        },
      },
      all: { children: ['ungrouped'] },
      ungrouped: { hosts: [tagged!.instanceId, named!.instanceId] },
    };
    expect((await ansible.play(control, markers)).created).toEqual([
      'PWNED_hostname',
      'PWNED_proxy',
      'PWNED_tag',
      'PWNED_version',
    ]);
  }, 180_000);

  it('fleetline’s inventory, with every tag allowed and no prefix, runs none of them', async () => {
    const markers = ansible.markersDir('fleetline');
    const file = join(markers, 'fleetline.yaml');
    writeFileSync(file, "inventory:\n  tag_hostvars: ['*']\n  tag_hostvar_prefix: ''\n");
    const out: string[] = [];
    const code = await runInventory(['--list', '--config', file], {
      loadModel: async () => hostileFleet(markers),
      out: (l) => out.push(l),
      err: () => {},
    });
    expect(code).toBe(0);
    const list = JSON.parse(out.join('\n'));
    expect(list._meta.hostvars['i-tagged']).toMatchObject({ env: 'prod' });
    const { stdout, created } = await ansible.play(list, markers);
    expect(created).toEqual([]);
    // The play did run, on the one host fleetline lists, and printed the payloads as text.
    expect(stdout).toMatch(/ok: \[i-tagged[^\]]*\] => \{\s*"msg": "i-tagged \{\{ lookup\('pipe'/);
  }, 180_000);
});
