/**
 * The dynamic inventory over HTTP, as a fastify route plugin for `createHttpServer`'s
 * `routes`: the same renderings as `fleetline inventory`, from the live model on every request.
 *
 *   GET /api/inventory/ansible             Ansible `--list` JSON
 *   GET /api/inventory/ansible?host=NAME   hostvars of one host (404 when unknown)
 *   GET /api/inventory/ssh_config          ssh_config text
 *   GET /api/inventory/hosts               plain JSON host list
 *
 * Registry attributes (EC2 tags) become hostvars only as `inventory.tag_hostvars` allows
 * (see `inventory.ts`); an allowed tag refused for its name, a host left out for its name, and
 * a value handed over as unsafe text are counted per rendering and logged once per rendering
 * (tag keys and host ids, never tag values).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { InventoryConfig } from '../config/sections/inventory.ts';
import type { Deps } from '../core/deps.ts';
import { counter } from '../telemetry/metrics.ts';
import {
  ansibleHost,
  ansibleInventory,
  compileHostvarPolicy,
  DEFAULT_HOSTVAR_POLICY,
  type HostvarNotes,
  hostList,
  sshConfig,
} from './inventory.ts';
import type { GenerationModel } from './model.ts';

/** At most this many refused tags (or hosts) are named in one log line. */
const LOGGED_REFUSALS = 10;

export function inventoryRoutes(
  deps: Deps,
  opts: {
    model: () => GenerationModel;
    /** `config.inventory`; without it, the defaults (no tag is a hostvar). */
    inventory?: Readonly<InventoryConfig>;
  },
): FastifyPluginAsync {
  const policy = opts.inventory ? compileHostvarPolicy(opts.inventory) : DEFAULT_HOSTVAR_POLICY;
  const served = counter(
    deps.metrics,
    'fleetline_generate_inventory_requests_total',
    'Inventory renderings served over HTTP, by format',
    ['format'],
  );
  const refused = counter(
    deps.metrics,
    'fleetline_generate_inventory_tags_refused_total',
    'Tags allowed by inventory.tag_hostvars but not made hostvars (reserved name, not an identifier, name taken), per rendering served',
    ['reason'],
  );
  const unsafe = counter(
    deps.metrics,
    'fleetline_generate_inventory_values_unsafe_total',
    'Hostvar values Ansible would template, served as __ansible_unsafe text, per rendering',
  );
  const hostsLeftOut = counter(
    deps.metrics,
    'fleetline_generate_inventory_hosts_refused_total',
    'Instances left out of the Ansible inventory because their id is not a plain host name, per rendering served',
  );
  const report = (notes: HostvarNotes) => {
    if (notes.inert > 0) unsafe.inc(notes.inert);
    if (notes.hosts.length > 0) {
      hostsLeftOut.inc(notes.hosts.length);
      deps.log.warn(
        { refused: notes.hosts.length, hosts: notes.hosts.slice(0, LOGGED_REFUSALS) },
        'inventory: instances whose id is not a plain host name (or names the local machine or a group) left out of the Ansible inventory',
      );
    }
    if (notes.refused.length === 0) return;
    for (const r of notes.refused) refused.inc({ reason: r.reason });
    deps.log.warn(
      {
        refused: notes.refused.length,
        tags: notes.refused
          .slice(0, LOGGED_REFUSALS)
          .map((r) => ({ instance: r.instanceId, key: r.key, hostvar: r.name, reason: r.reason })),
      },
      'inventory: allowed tags not exposed as Ansible hostvars',
    );
  };
  return async (app) => {
    app.get<{ Querystring: { host?: string } }>('/api/inventory/ansible', async (req, reply) => {
      served.inc({ format: 'ansible' });
      const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
      const host = req.query.host;
      if (host === undefined) {
        const inv = ansibleInventory(opts.model(), policy, notes);
        report(notes);
        return inv;
      }
      const vars = ansibleHost(opts.model(), host, policy, notes);
      report(notes);
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
