/**
 * The dynamic inventory over HTTP, as a fastify route plugin for `createHttpServer`'s
 * `routes`: the same renderings as `fleetline inventory`, from the live model on every request.
 *
 *   GET /api/inventory/ansible             Ansible `--list` JSON
 *   GET /api/inventory/ansible?host=NAME   hostvars of one host (404 when unknown)
 *   GET /api/inventory/ssh_config          ssh_config text
 *   GET /api/inventory/hosts               plain JSON host list
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Deps } from '../core/deps.ts';
import { counter } from '../telemetry/metrics.ts';
import { ansibleHost, ansibleInventory, hostList, sshConfig } from './inventory.ts';
import type { GenerationModel } from './model.ts';

export function inventoryRoutes(
  deps: Deps,
  opts: { model: () => GenerationModel },
): FastifyPluginAsync {
  const served = counter(
    deps.metrics,
    'fleetline_generate_inventory_requests_total',
    'Inventory renderings served over HTTP, by format',
    ['format'],
  );
  return async (app) => {
    app.get<{ Querystring: { host?: string } }>('/api/inventory/ansible', async (req, reply) => {
      served.inc({ format: 'ansible' });
      const host = req.query.host;
      if (host === undefined) return ansibleInventory(opts.model());
      const vars = ansibleHost(opts.model(), host);
      if (!vars) return reply.code(404).send({ error: `unknown host ${JSON.stringify(host)}` });
      return vars;
    });
    app.get('/api/inventory/ssh_config', async (_req, reply) => {
      served.inc({ format: 'ssh_config' });
      reply.type('text/plain; charset=utf-8').send(sshConfig(opts.model()));
    });
    app.get('/api/inventory/hosts', async () => {
      served.inc({ format: 'hosts' });
      return hostList(opts.model());
    });
  };
}
