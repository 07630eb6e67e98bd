/**
 * Dynamic inventory from the fleet registry, in the three shapes operators' tools read:
 * Ansible's dynamic-inventory JSON (`--list` with `_meta.hostvars`, groups per role, version
 * and role+version), an `ssh_config` with a `Host` entry per live instance aliased
 * `<role>-<slot>`, and a plain JSON host list. Pure functions of the model; output is sorted.
 *
 * Hostvars are what Ansible acts on, and the registry's attributes are EC2 tags: anyone allowed
 * to tag an instance (a much weaker permission than running Ansible) would otherwise set
 * `ansible_ssh_common_args: -o ProxyCommand=…` (a command on the operator's machine),
 * `ansible_host`, `ansible_become_exe`, … So an attribute becomes a hostvar only when
 * `inventory.tag_hostvars` allows its key, named `inventory.tag_hostvar_prefix` + the key made
 * an identifier, and never under a name Ansible reserves or fleetline sets itself (refused and
 * reported). Any string value that Ansible would template (`{{ lookup('pipe', …) }}` runs a
 * command as well), alone or joined with another (any value holding a `{`), is emitted as
 * `{"__ansible_unsafe": value}`, which Ansible's JSON reader takes as literal text.
 */

import type { InventoryConfig } from '../config/sections/inventory.ts';
import { shortHash } from './dashboard-uid.ts';
import type { GenerationModel, InstanceModel } from './model.ts';
import { cmp } from './signal-catalog.ts';

/** A string Ansible must not template: its JSON decoder reads this object as an unsafe string. */
export interface UnsafeText {
  __ansible_unsafe: string;
}

export type HostVars = Record<string, string | number | UnsafeText>;

export interface AnsibleInventory {
  _meta: { hostvars: Record<string, HostVars> };
  all: { children: string[] };
  ungrouped: { hosts: string[] };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleInventory['_meta'];
}

/** Which attributes become hostvars, and under what name: `compileHostvarPolicy(config)`. */
export interface HostvarPolicy {
  allowed(key: string): boolean;
  prefix: string;
}

export type RefusedReason = 'reserved' | 'invalid_name' | 'collision';

/** An allowed attribute that was not made a hostvar, and why. Never carries the value. */
export interface RefusedTag {
  instanceId: string;
  key: string;
  name: string;
  reason: RefusedReason;
}

/** What a rendering left out or defused; the caller counts and logs it. */
export interface HostvarNotes {
  refused: RefusedTag[];
  /** String values emitted as `__ansible_unsafe` because Ansible could template them. */
  inert: number;
  /** Instance ids left out of the Ansible inventory: not a plain host name (`ansibleHostName`). */
  hosts: string[];
}

const globRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('')}$`,
    's',
  );

export function compileHostvarPolicy(config: Readonly<InventoryConfig>): HostvarPolicy {
  if (!/^([A-Za-z_][A-Za-z0-9_]*)?$/.test(config.tag_hostvar_prefix))
    throw new Error(`inventory.tag_hostvar_prefix: must be empty or an identifier`);
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const p of config.tag_hostvars) {
    if (/[*?]/.test(p)) globs.push(globRegExp(p));
    else exact.add(p);
  }
  return {
    allowed: (key) => exact.has(key) || globs.some((g) => g.test(key)),
    prefix: config.tag_hostvar_prefix,
  };
}

/** The defaults: no attribute is a hostvar. */
export const DEFAULT_HOSTVAR_POLICY = compileHostvarPolicy({
  tag_hostvars: [],
  tag_hostvar_prefix: 'tag_',
});

/**
 * Names a tag may not take even when allowed. Every `ansible_*` name is a connection, become,
 * interpreter or magic variable (or may become one with a plugin), matched in any case to be
 * safe; `__ansible_*` keys are markers in Ansible's JSON (`__ansible_vault`, `__ansible_unsafe`)
 * that would turn the whole hostvars object into something else. The rest are the magic
 * variables without that prefix, the play/task keywords Ansible reports as reserved
 * (`ansible.vars.reserved`), the globals Ansible's templates call (a hostvar `lookup` shadows
 * the function, and every `{{ lookup(…) }}` on that host fails), and Python keywords, which
 * Ansible's `isidentifier` rejects.
 */
const RESERVED_PREFIX = /^(ansible_|__ansible)/i;
const RESERVED = new Set(
  [
    // magic variables
    'group_names groups hostvars inventory_dir inventory_file inventory_hostname ' +
      'inventory_hostname_short omit play_hosts playbook_dir role_name role_names role_path ' +
      'vars',
    // play, role, block and task keywords (ansible.vars.reserved.get_reserved_names)
    'action always any_errors_fatal args async async_val become become_exe become_flags ' +
      'become_method become_user block changed_when check_mode collections connection debugger ' +
      'delay delegate_facts delegate_to diff environment fact_path failed_when force_handlers ' +
      'gather_facts gather_subset gather_timeout handlers hosts ignore_errors ' +
      'ignore_unreachable include local_action loop loop_control loop_with max_fail_percentage ' +
      'module_defaults name no_log notify order poll port post_tasks pre_tasks register ' +
      'remote_user rescue retries roles run_once serial strategy tags tasks throttle timeout ' +
      'until vars_files vars_prompt when',
    // template globals (ansible-core 2.14 Templar.environment.globals)
    'cycler dict joiner lipsum lookup namespace now q query range undef',
    // Python keywords
    'False None True and as assert await break class continue def del elif else except ' +
      'finally for from global if import in is lambda nonlocal not or pass raise return try ' +
      'while with yield',
  ]
    .join(' ')
    .split(' '),
);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Ansible templates a string when it holds one of Jinja's start delimiters (`{{`, `{%`, `{#`); a
 * `#jinja2:` first line may change those delimiters for the rest. Such a value is handed over as
 * unsafe text. So is any value holding a single `{`: a delimiter split across two values
 * (`a: "{"`, `b: "% set x = lookup('pipe', …) %}"`) is a template once a play joins them
 * (`set_fact: x: "{{ a }}{{ b }}"`), and runs when the fact is used. Its first half always holds
 * the `{`, and Ansible marks a template's result unsafe when any value it read was, so making
 * every value with a `{` unsafe defuses every split (ansible-core 2.14, checked under real
 * Ansible in test/integration/generate-inventory-split-jinja.test.ts).
 */
const TEMPLATE = /\{|^#jinja2:/;
function inert(v: string, notes?: HostvarNotes): string | UnsafeText {
  if (!TEMPLATE.test(v)) return v;
  if (notes) notes.inert++;
  return { __ansible_unsafe: v };
}

/** Ansible group names: letters, digits and `_`, not starting with a digit. */
export function safeGroupName(...parts: string[]): string {
  const name = parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The inventory hostname of an instance: its id, stable and unique for its whole life. */
export const hostName = (i: InstanceModel) => i.instanceId;

/**
 * Whether an id may be an Ansible inventory hostname. With `registry.records` an id is whatever
 * an agent's record names, and Ansible templates `{{ inventory_hostname }}` like any variable
 * (a host named `{{ lookup('pipe', …) }}` runs a command on the operator's machine), connects to
 * a host without `ansible_host` by its name (a leading `-` is an option to ssh), and reads `:`
 * and `,` as separators in `--limit` patterns. EC2 ids and DNS names pass.
 */
const INVENTORY_HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/**
 * A name for the control machine itself: `localhost` (and `*.localhost`, `localhost.*`, in any
 * case, as a resolver reads it), 127.0.0.0/8, 0.0.0.0. An inventory host of that name replaces
 * Ansible's implicit localhost: every `delegate_to: localhost` task of the operator's plays
 * would go over ssh with that host's vars, and its role's plays would run on the operator's own
 * machine. An agent whose hostname is `localhost` (a container's default) would do it.
 */
const LOCAL_NAME = /^(?:localhost(?:\..*)?|.*\.localhost|127(?:\.[0-9]+){3}|0\.0\.0\.0)\.?$/i;
/**
 * The form of every group name `ansibleInventory` writes. Where a pattern names both a group and
 * a host, Ansible takes the host: an instance `role_db` would take every play aimed at the db
 * role away from the db hosts.
 */
const GROUP_NAME = /^(?:all|ungrouped|role_.*|version_.*)$/i;
export const ansibleHostName = (i: InstanceModel) => {
  const h = hostName(i);
  return INVENTORY_HOST_NAME.test(h) && !LOCAL_NAME.test(h) && !GROUP_NAME.test(h);
};

/** `web-1`: the slot alias that stays the same across replacements. */
export function slotAlias(i: InstanceModel): string {
  const role = i.role
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${role || 'role'}-${i.slot}`;
}

/**
 * The slot aliases that name exactly one instance and no instance's id. An alias squashes the
 * role's case and punctuation (`Web` and `web` are both `web-0`), roles come from EC2 tags or
 * agents' records, and ssh takes the first `Host` block that matches: a shared alias would take
 * `ssh web-0` to whichever instance sorts first. A shared one is used for none of them.
 */
function usableAliases(model: GenerationModel): Set<string> {
  const count = new Map<string, number>();
  for (const i of model.instances) count.set(slotAlias(i), (count.get(slotAlias(i)) ?? 0) + 1);
  for (const i of model.instances) count.delete(i.instanceId);
  return new Set([...count].filter(([, n]) => n === 1).map(([a]) => a));
}

function sortedInstances(model: GenerationModel): InstanceModel[] {
  return [...model.instances].sort(
    (a, b) => cmp(a.role, b.role) || a.slot - b.slot || cmp(a.instanceId, b.instanceId),
  );
}

/**
 * A host address for ssh and Ansible: an IP or DNS name, nothing a shell, ssh_config or ssh's
 * own option parser would read as more (a leading `-` is an option to `ssh` or to a
 * `ProxyCommand` that gets `%h`).
 */
const ADDRESS = /^[A-Za-z0-9:][A-Za-z0-9.:-]*$/;
const hostAddress = (i: InstanceModel) =>
  [i.privateIp, i.privateDns].find((a) => a !== undefined && ADDRESS.test(a));

/**
 * The hostvars fleetline sets, some only when the registry knows them (`az`, the addresses): a
 * tag never takes one of these names, also on a host where fleetline leaves it unset, or a play
 * reading `private_ip` would get the registry's address on one host and a tag on the next.
 */
const OWN_NAMES = new Set([
  'instance_id',
  'role',
  'version',
  'slot',
  'slot_alias',
  'launched_at',
  'az',
  'private_ip',
  'private_dns',
]);

export function hostVars(
  i: InstanceModel,
  policy: HostvarPolicy = DEFAULT_HOSTVAR_POLICY,
  notes?: HostvarNotes,
): HostVars {
  const address = hostAddress(i);
  const text = (v: string) => inert(v, notes);
  const vars: HostVars = {
    instance_id: text(i.instanceId),
    role: text(i.role),
    version: text(i.version),
    slot: i.slot,
    slot_alias: slotAlias(i),
    launched_at: new Date(i.launchedAt).toISOString(),
  };
  if (i.az) vars.az = text(i.az);
  if (i.privateIp) vars.private_ip = text(i.privateIp);
  if (i.privateDns) vars.private_dns = text(i.privateDns);
  if (address) vars.ansible_host = address;
  // Allowed attributes by hostvar name; a name two keys (or a key and fleetline) share is
  // ambiguous, and a play reading it could get either: all of them are refused.
  const byName = new Map<string, string[]>();
  for (const key of Object.keys(i.attributes ?? {}).sort(cmp)) {
    if (!policy.allowed(key)) continue;
    const name = policy.prefix + key.replace(/[^A-Za-z0-9_]/g, '_');
    byName.set(name, [...(byName.get(name) ?? []), key]);
  }
  const refuse = (key: string, name: string, reason: RefusedReason) =>
    notes?.refused.push({ instanceId: i.instanceId, key, name, reason });
  for (const [name, keys] of byName) {
    const reason: RefusedReason | undefined = !IDENTIFIER.test(name)
      ? 'invalid_name'
      : RESERVED_PREFIX.test(name) || RESERVED.has(name)
        ? 'reserved'
        : OWN_NAMES.has(name) || name in vars || keys.length > 1
          ? 'collision'
          : undefined;
    if (reason) for (const key of keys) refuse(key, name, reason);
    else vars[name] = text(i.attributes![keys[0]!]!);
  }
  return vars;
}

export function ansibleInventory(
  model: GenerationModel,
  policy: HostvarPolicy = DEFAULT_HOSTVAR_POLICY,
  notes?: HostvarNotes,
): AnsibleInventory {
  // Keyed by what the group stands for (kind and raw names), named afterwards: safe names
  // squash punctuation, so `api-v2` and `api_v2` (or role `a_version_b` and role a at version
  // b) would otherwise share one group, and a play aimed at one would run on the other.
  const groups = new Map<string, { name: string; hosts: Set<string> }>();
  const ungrouped: string[] = [];
  const hostvars: Record<string, HostVars> = {};
  const add = (key: string[], name: string, h: string) => {
    const k = JSON.stringify(key);
    const g = groups.get(k) ?? { name, hosts: new Set<string>() };
    g.hosts.add(h);
    groups.set(k, g);
  };
  for (const i of sortedInstances(model)) {
    const h = hostName(i);
    if (!ansibleHostName(i)) {
      notes?.hosts.push(h);
      continue;
    }
    hostvars[h] = hostVars(i, policy, notes);
    if (i.role === 'unknown') {
      ungrouped.push(h);
      continue;
    }
    add(['role', i.role], safeGroupName('role', i.role), h);
    add(['version', i.version], safeGroupName('version', i.version), h);
    add(
      ['role+version', i.role, i.version],
      safeGroupName('role', i.role, 'version', i.version),
      h,
    );
  }
  const uses = new Map<string, number>();
  for (const g of groups.values()) uses.set(g.name, (uses.get(g.name) ?? 0) + 1);
  const named = new Map<string, Set<string>>();
  for (const [key, g] of groups)
    named.set((uses.get(g.name) ?? 0) > 1 ? `${g.name}_${shortHash(key)}` : g.name, g.hosts);
  const names = [...named.keys()].sort(cmp);
  const inv: AnsibleInventory = {
    _meta: { hostvars },
    all: { children: ['ungrouped', ...names] },
    ungrouped: { hosts: ungrouped },
  };
  for (const n of names) inv[n] = { hosts: [...named.get(n)!].sort(cmp) };
  return inv;
}

/** `--host NAME`: the hostvars of one host (by instance id or slot alias), or undefined. */
export function ansibleHost(
  model: GenerationModel,
  name: string,
  policy: HostvarPolicy = DEFAULT_HOSTVAR_POLICY,
  notes?: HostvarNotes,
): HostVars | undefined {
  // Only hosts the --list names: Ansible never asks for others, and their vars are no one's.
  const aliases = usableAliases(model);
  const i =
    model.instances.find((x) => hostName(x) === name) ??
    (aliases.has(name) ? model.instances.find((x) => slotAlias(x) === name) : undefined);
  return i && ansibleHostName(i) ? hostVars(i, policy, notes) : undefined;
}

/**
 * ssh_config is line- and whitespace-structured, and role, version, instance id and addresses
 * can come from the records agents send: a newline in any of them would start a directive of
 * its own (`ProxyCommand` runs a command on the operator's machine), whitespace or `*`/`!`
 * would add host patterns, `%` is a token in HostName. So comments lose control characters,
 * an instance id is a Host pattern only when it is a plain name that does not name the local
 * machine (`ssh localhost` must stay local), and an address is used only when it looks like an
 * IP or DNS name and does not start with `-` (`hostAddress`; otherwise the instance is listed
 * as skipped). A slot alias two instances share is a pattern for neither (`usableAliases`).
 * Registry attributes (EC2 tags) never reach ssh_config.
 */
const SSH_TOKEN = /^[A-Za-z0-9._-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
const commentText = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');

export function sshConfig(model: GenerationModel): string {
  const out = ['# Generated by fleetline from the fleet registry: one Host per live instance.'];
  const aliases = usableAliases(model);
  for (const i of sortedInstances(model)) {
    const address = hostAddress(i);
    const about = commentText(
      `role ${i.role}, version ${i.version}, slot ${i.slot}${i.az ? `, ${i.az}` : ''}`,
    );
    if (!address) {
      out.push('', `# ${commentText(i.instanceId)} (${about}): no private address known, skipped`);
      continue;
    }
    const patterns = [
      ...(aliases.has(slotAlias(i)) ? [slotAlias(i)] : []),
      ...(SSH_TOKEN.test(i.instanceId) && !LOCAL_NAME.test(i.instanceId) ? [i.instanceId] : []),
    ];
    if (patterns.length === 0) {
      out.push('', `# ${commentText(i.instanceId)} (${about}): no unambiguous name, skipped`);
      continue;
    }
    out.push('', `# ${about}`, `Host ${patterns.join(' ')}`, `  HostName ${address}`);
  }
  return `${out.join('\n')}\n`;
}

export interface HostEntry {
  name: string;
  alias: string;
  instance_id: string;
  role: string;
  version: string;
  slot: number;
  az?: string;
  private_ip?: string;
  private_dns?: string;
  launched_at: string;
}

export function hostList(model: GenerationModel): HostEntry[] {
  return sortedInstances(model).map((i) => ({
    name: hostName(i),
    alias: slotAlias(i),
    instance_id: i.instanceId,
    role: i.role,
    version: i.version,
    slot: i.slot,
    ...(i.az ? { az: i.az } : {}),
    ...(i.privateIp ? { private_ip: i.privateIp } : {}),
    ...(i.privateDns ? { private_dns: i.privateDns } : {}),
    launched_at: new Date(i.launchedAt).toISOString(),
  }));
}
