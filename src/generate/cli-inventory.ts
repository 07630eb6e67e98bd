/**
 * `fleetline inventory --list | --host NAME | --ssh-config | --hosts [--config FILE]`: the
 * dynamic inventory on stdout. `--list`/`--host` follow Ansible's dynamic-inventory script
 * protocol, so a one-line wrapper script (`exec fleetline inventory "$@"`) is an inventory.
 * Returns the exit code: 0 done, 1 failed or unknown host, 2 usage error.
 *
 * Registry attributes (EC2 tags) become hostvars only as the configuration's
 * `inventory.tag_hostvars` allows; allowed tags refused for their name, and instances left out
 * because their id is not a plain host name, are named on stderr (Ansible reads only stdout),
 * never with tag values.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import type { InventoryConfig } from '../config/sections/inventory.ts';
import type { CliIo } from './cli-dashboards.ts';
import {
  ansibleHost,
  ansibleInventory,
  compileHostvarPolicy,
  type HostvarNotes,
  type HostvarPolicy,
  hostList,
  sshConfig,
} from './inventory.ts';
import type { GenerationModel } from './model.ts';

export const INVENTORY_USAGE = `usage: fleetline inventory (--list | --host NAME | --ssh-config | --hosts) [--config FILE]

  --list         Ansible dynamic inventory JSON (groups per role, version, role+version)
  --host NAME    hostvars of one host (instance id or <role>-<slot> alias)
  --ssh-config   ssh_config with a Host entry per live instance (alias <role>-<slot>)
  --hosts        plain JSON list of live hosts`;

export interface InventoryCliDeps extends CliIo {
  loadModel: (configPath?: string) => Promise<GenerationModel>;
  /** The `inventory:` settings; by default from the configuration `loadModel` reads. */
  loadInventoryConfig?: (configPath?: string) => Readonly<InventoryConfig>;
}

const configuredInventory = (configPath?: string) =>
  loadConfig({ file: configPath }).config.inventory;

/** At most this many refused tags are named on stderr. */
const REPORTED_REFUSALS = 10;

function reportNotes(notes: HostvarNotes, err: (l: string) => void) {
  for (const h of notes.hosts.slice(0, REPORTED_REFUSALS))
    err(
      `fleetline inventory: instance ${JSON.stringify(h)} left out: not a plain host name, or names the local machine or a group`,
    );
  if (notes.hosts.length > REPORTED_REFUSALS)
    err(
      `fleetline inventory: and ${notes.hosts.length - REPORTED_REFUSALS} more instances left out`,
    );
  for (const r of notes.refused.slice(0, REPORTED_REFUSALS))
    err(
      `fleetline inventory: tag ${JSON.stringify(r.key)} of ${r.instanceId} not exposed as hostvar ${JSON.stringify(r.name)}: ${r.reason}`,
    );
  if (notes.refused.length > REPORTED_REFUSALS)
    err(`fleetline inventory: and ${notes.refused.length - REPORTED_REFUSALS} more tags refused`);
}

export async function runInventory(argv: string[], d: InventoryCliDeps): Promise<number> {
  const out = d.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = d.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let values: {
    list?: boolean;
    host?: string;
    'ssh-config'?: boolean;
    hosts?: boolean;
    config?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        list: { type: 'boolean' },
        host: { type: 'string' },
        'ssh-config': { type: 'boolean' },
        hosts: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    err(`fleetline inventory: ${(e as Error).message}\n${INVENTORY_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(INVENTORY_USAGE);
    return 0;
  }
  const modes = [values.list, values.host !== undefined, values['ssh-config'], values.hosts];
  if (modes.filter(Boolean).length !== 1) {
    err(
      `fleetline inventory: choose exactly one of --list, --host, --ssh-config, --hosts\n${INVENTORY_USAGE}`,
    );
    return 2;
  }
  let policy: HostvarPolicy;
  try {
    policy = compileHostvarPolicy((d.loadInventoryConfig ?? configuredInventory)(values.config));
  } catch (e) {
    err(`fleetline inventory: ${(e as Error).message}`);
    return 1;
  }
  let model: GenerationModel;
  try {
    model = await d.loadModel(values.config);
  } catch (e) {
    err(`fleetline inventory: cannot read the fleet registry: ${(e as Error).message}`);
    return 1;
  }
  const notes: HostvarNotes = { refused: [], inert: 0, hosts: [] };
  if (values.list) out(JSON.stringify(ansibleInventory(model, policy, notes), null, 2));
  else if (values.hosts) out(JSON.stringify(hostList(model), null, 2));
  else if (values['ssh-config']) out(sshConfig(model).trimEnd());
  else {
    const vars = ansibleHost(model, values.host!, policy, notes);
    if (!vars) {
      out('{}');
      err(`fleetline inventory: unknown host ${JSON.stringify(values.host)}`);
      return 1;
    }
    out(JSON.stringify(vars, null, 2));
  }
  reportNotes(notes, err);
  return 0;
}
