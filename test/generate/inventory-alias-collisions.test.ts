/**
 * The `<role>-<slot>` alias squashes a role's case and punctuation, so two roles can share one:
 * `Web` and `web`, `api v2` and `api-v2`. ssh takes the first `Host` block that matches, and
 * roles come from EC2 tags (a weaker permission than logging in) or agents' records: an
 * instance tagged `Role=Web` sorts before `web` and took `ssh web-0` to itself. An alias that
 * names more than one instance is used for none of them (each keeps its instance id), and
 * `--host` does not answer for it.
 */
import { describe, expect, it } from 'vitest';
import { ansibleHost, sshConfig } from '../../src/generate/inventory.ts';
import type { GenerationModel, InstanceModel } from '../../src/generate/model.ts';

const base: InstanceModel = {
  instanceId: 'i-web0',
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
    base,
    { ...base, instanceId: 'i-web1', slot: 1, privateIp: '10.0.0.2' },
    { ...base, instanceId: 'i-evil', role: 'Web', slot: 0, privateIp: '10.9.9.9' },
  ],
};

describe('slot aliases shared by two instances', () => {
  const text = sshConfig(model);

  it('are no Host pattern for either; each keeps its instance id', () => {
    expect(text).not.toMatch(/^Host .*\bweb-0\b/m);
    expect(text).toContain('Host i-web0\n  HostName 10.0.0.1');
    expect(text).toContain('Host i-evil\n  HostName 10.9.9.9');
    expect(text).toContain('Host web-1 i-web1\n  HostName 10.0.0.2');
  });

  it('--host does not answer for them, only by instance id', () => {
    expect(ansibleHost(model, 'web-0')).toBeUndefined();
    expect(ansibleHost(model, 'i-web0')?.ansible_host).toBe('10.0.0.1');
    expect(ansibleHost(model, 'web-1')?.instance_id).toBe('i-web1');
  });
});
