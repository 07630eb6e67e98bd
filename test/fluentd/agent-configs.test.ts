import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/load.ts';
import { parseFluentBitConf, parseFluentdConf } from '../helpers/agent-config-parse.ts';

const read = (p: string) => readFileSync(new URL(`../../fluentd/${p}`, import.meta.url), 'utf8');

describe('fluentd/agent.conf', () => {
  const directives = parseFluentdConf(read('agent.conf'));

  it('tails the application logs with position files', () => {
    const sources = directives.filter((d) => d.name === 'source');
    expect(sources.length).toBeGreaterThanOrEqual(1);
    for (const s of sources) {
      expect(s.params['@type']).toBe('tail');
      expect(s.params.pos_file).toBeTruthy();
      expect(s.params.tag).toMatch(/^app\./);
    }
  });

  it('adds instance_id (a default identity key of fleetline) to every record', () => {
    const filter = directives.find((d) => d.name === 'filter');
    expect(filter?.params['@type']).toBe('record_transformer');
    const record = filter?.children.find((c) => c.name === 'record');
    expect(Object.keys(record?.params ?? {})).toEqual(
      expect.arrayContaining(['instance_id', 'role', 'version']),
    );
    expect(defaultConfig().registry.identity_keys).toContain('instance_id');
  });

  it('forwards with acks, shared key, gzip, a file buffer and retries', () => {
    const match = directives.find((d) => d.name === 'match');
    expect(match?.params).toMatchObject({
      '@type': 'forward',
      require_ack_response: 'true',
      compress: 'gzip',
    });
    const security = match?.children.find((c) => c.name === 'security');
    expect(security?.params.shared_key).toBeTruthy();
    expect(security?.params.self_hostname).toBeTruthy();
    const server = match?.children.find((c) => c.name === 'server');
    expect(Number(server?.params.port)).toBe(defaultConfig().forward.port);
    const buffer = match?.children.find((c) => c.name === 'buffer');
    expect(buffer?.params).toMatchObject({
      '@type': 'file',
      retry_type: 'exponential_backoff',
      overflow_action: 'block',
    });
    // Chunks must fit in one Forward frame that fleetline accepts.
    const chunkMiB = Number(/^(\d+)m$/.exec(buffer?.params.chunk_limit_size ?? '')?.[1]);
    expect(chunkMiB * 1024 * 1024).toBeLessThan(defaultConfig().forward.max_frame_bytes);
  });

  it('comments every line that sets something', () => {
    const lines = read('agent.conf').split('\n');
    lines.forEach((line, i) => {
      if (/^\s*@?[a-z_]+\s+\S/.test(line)) {
        const context = lines.slice(Math.max(0, i - 4), i).join('\n');
        expect(context + line, `line ${i + 1} has no comment nearby`).toMatch(/#/);
      }
    });
  });
});

describe('fluentd/fluent-bit.conf', () => {
  const sections = parseFluentBitConf(read('fluent-bit.conf'));
  const get = (name: string) =>
    sections.filter((s) => s.name === name).map((s) => Object.fromEntries(s.entries));

  it('tails, adds EC2 identity with the aws filter and forwards with ack, key and gzip', () => {
    expect(get('INPUT').every((i) => i.Name === 'tail' && i.Tag)).toBe(true);
    expect(get('FILTER').some((f) => f.Name === 'aws' && f.ec2_instance_id === 'true')).toBe(true);
    const [out] = get('OUTPUT');
    expect(out).toMatchObject({ Name: 'forward', Require_ack_response: 'true', Compress: 'gzip' });
    expect(out?.Shared_Key).toBeTruthy();
    expect(Number(out?.Port)).toBe(defaultConfig().forward.port);
    // The aws filter's key is one fleetline looks for by default.
    expect(defaultConfig().registry.identity_keys).toContain('ec2_instance_id');
  });
});
