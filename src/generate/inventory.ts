/**
 * Dynamic inventory from the fleet registry, in the three shapes operators' tools read:
 * Ansible's dynamic-inventory JSON (`--list` with `_meta.hostvars`, groups per role, version
 * and role+version), an `ssh_config` with a `Host` entry per live instance aliased
 * `<role>-<slot>`, and a plain JSON host list. Pure functions of the model; output is sorted.
 */

import { shortHash } from './dashboard-uid.ts';
import type { GenerationModel, InstanceModel } from './model.ts';
import { cmp } from './signal-catalog.ts';

export type HostVars = Record<string, string | number>;

export interface AnsibleInventory {
  _meta: { hostvars: Record<string, HostVars> };
  all: { children: string[] };
  ungrouped: { hosts: string[] };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleInventory['_meta'];
}

/** Ansible group names: letters, digits and `_`, not starting with a digit. */
export function safeGroupName(...parts: string[]): string {
  const name = parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The inventory hostname of an instance: its id, stable and unique for its whole life. */
export const hostName = (i: InstanceModel) => i.instanceId;

/** `web-1`: the slot alias that stays the same across replacements. */
export function slotAlias(i: InstanceModel): string {
  const role = i.role
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${role || 'role'}-${i.slot}`;
}

function sortedInstances(model: GenerationModel): InstanceModel[] {
  return [...model.instances].sort(
    (a, b) => cmp(a.role, b.role) || a.slot - b.slot || cmp(a.instanceId, b.instanceId),
  );
}

export function hostVars(i: InstanceModel): HostVars {
  const address = i.privateIp ?? i.privateDns;
  const vars: HostVars = {
    instance_id: i.instanceId,
    role: i.role,
    version: i.version,
    slot: i.slot,
    slot_alias: slotAlias(i),
    launched_at: new Date(i.launchedAt).toISOString(),
  };
  if (i.az) vars.az = i.az;
  if (i.privateIp) vars.private_ip = i.privateIp;
  if (i.privateDns) vars.private_dns = i.privateDns;
  if (address) vars.ansible_host = address;
  for (const [k, v] of Object.entries(i.attributes ?? {}).sort(([a], [b]) => cmp(a, b)))
    if (!(k in vars)) vars[k] = v;
  return vars;
}

export function ansibleInventory(model: GenerationModel): AnsibleInventory {
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
    hostvars[h] = hostVars(i);
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
export function ansibleHost(model: GenerationModel, name: string): HostVars | undefined {
  const i = model.instances.find((x) => hostName(x) === name || slotAlias(x) === name);
  return i ? hostVars(i) : undefined;
}

/**
 * ssh_config is line- and whitespace-structured, and role, version, instance id and addresses
 * can come from the records agents send: a newline in any of them would start a directive of
 * its own (`ProxyCommand` runs a command on the operator's machine), whitespace or `*`/`!`
 * would add host patterns, `%` is a token in HostName. So comments lose control characters,
 * an instance id is a Host pattern only when it is a plain name, and an address is used only
 * when it looks like an IP or DNS name (otherwise the instance is listed as skipped).
 */
const SSH_TOKEN = /^[A-Za-z0-9._-]+$/;
const SSH_ADDRESS = /^[A-Za-z0-9.:-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
const commentText = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');

export function sshConfig(model: GenerationModel): string {
  const out = ['# Generated by fleetline from the fleet registry: one Host per live instance.'];
  for (const i of sortedInstances(model)) {
    const address = [i.privateIp, i.privateDns].find((a) => a !== undefined && SSH_ADDRESS.test(a));
    const about = commentText(
      `role ${i.role}, version ${i.version}, slot ${i.slot}${i.az ? `, ${i.az}` : ''}`,
    );
    if (!address) {
      out.push('', `# ${commentText(i.instanceId)} (${about}): no private address known, skipped`);
      continue;
    }
    const patterns = SSH_TOKEN.test(i.instanceId)
      ? `${slotAlias(i)} ${i.instanceId}`
      : slotAlias(i);
    out.push('', `# ${about}`, `Host ${patterns}`, `  HostName ${address}`);
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
