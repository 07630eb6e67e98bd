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
