import { describe, expect, it } from 'vitest';
import { runInventory } from '../../src/generate/cli-inventory.ts';
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
