/**
 * The static inventory file format (`registry.static.path`), YAML or JSON:
 *
 *   instances:
 *     - instance_id: i-0abc          # required
 *       role: web                    # required
 *       version: 1.4.2
 *       private_ip: 10.0.1.5
 *       private_dns: ip-10-0-1-5.ec2.internal
 *       az: us-east-1a
 *       ami: ami-0123
 *       launched_at: 2026-11-27T10:00:00Z   # ISO 8601 or epoch ms; default: when first read
 *       terminated_at: 2026-11-27T11:00:00Z # past instances, so late records still resolve
 *       attributes: { env: prod }    # strings; usable in registry.extra_labels
 *
 * A bare list at the top level is accepted too. Parsing is pure: `parseInventory(text)`
 * returns the instances or every problem found, each with its path (`instances[3].role`).
 */
import { parse } from 'yaml';
import type { InstanceFacts } from '../observation.ts';

export type InventoryResult =
  | { ok: true; instances: InstanceFacts[] }
  | { ok: false; errors: string[] };

const KNOWN = new Set([
  'instance_id',
  'role',
  'version',
  'private_ip',
  'private_dns',
  'az',
  'ami',
  'launched_at',
  'terminated_at',
  'attributes',
]);

export function parseInventory(text: string): InventoryResult {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, errors: [`not YAML/JSON: ${(err as Error).message.split('\n')[0]}`] };
  }
  const list = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object' && Array.isArray((doc as { instances?: unknown }).instances)
      ? (doc as { instances: unknown[] }).instances
      : doc === null || doc === undefined
        ? []
        : undefined;
  if (!list) return { ok: false, errors: ['instances: must be a list'] };
  const errors: string[] = [];
  const instances: InstanceFacts[] = [];
  const ids = new Set<string>();
  list.forEach((item, i) => {
    const at = `instances[${i}]`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      errors.push(`${at}: must be a mapping`);
      return;
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!KNOWN.has(k)) errors.push(`${at}.${k}: unknown key`);
    const str = (k: string, required = false): string | undefined => {
      const v = o[k];
      if (v === undefined || v === null) {
        if (required) errors.push(`${at}.${k}: required`);
        return undefined;
      }
      if (typeof v === 'string' && v !== '') return v;
      if (typeof v === 'number') return String(v);
      errors.push(`${at}.${k}: must be a non-empty string`);
      return undefined;
    };
    const time = (k: string): number | undefined => {
      const v = o[k];
      if (v === undefined || v === null) return undefined;
      const ms =
        typeof v === 'number'
          ? v
          : v instanceof Date
            ? v.getTime()
            : typeof v === 'string'
              ? Date.parse(v)
              : Number.NaN;
      if (!Number.isFinite(ms)) {
        errors.push(`${at}.${k}: must be an ISO 8601 time or epoch milliseconds`);
        return undefined;
      }
      return ms;
    };
    const instanceId = str('instance_id', true);
    const role = str('role', true);
    const version = str('version');
    const privateIp = str('private_ip');
    const privateDns = str('private_dns');
    const az = str('az');
    const ami = str('ami');
    const launchedAt = time('launched_at');
    const terminatedAt = time('terminated_at');
    let attributes: Record<string, string> | undefined;
    if (o.attributes !== undefined) {
      if (!o.attributes || typeof o.attributes !== 'object' || Array.isArray(o.attributes))
        errors.push(`${at}.attributes: must be a mapping of strings`);
      else {
        attributes = {};
        for (const [k, v] of Object.entries(o.attributes)) {
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
            attributes[k] = String(v);
          else errors.push(`${at}.attributes.${k}: must be a string`);
        }
      }
    }
    if (instanceId !== undefined) {
      if (ids.has(instanceId)) errors.push(`${at}.instance_id: duplicate ${instanceId}`);
      ids.add(instanceId);
    }
    if (launchedAt !== undefined && terminatedAt !== undefined && terminatedAt < launchedAt)
      errors.push(`${at}.terminated_at: before launched_at`);
    if (instanceId === undefined || role === undefined) return;
    instances.push({
      instanceId,
      role,
      ...(version !== undefined ? { version } : {}),
      ...(privateIp !== undefined ? { privateIp } : {}),
      ...(privateDns !== undefined ? { privateDns } : {}),
      ...(az !== undefined ? { az } : {}),
      ...(ami !== undefined ? { ami } : {}),
      ...(launchedAt !== undefined ? { launchedAt } : {}),
      ...(terminatedAt !== undefined ? { terminatedAt } : {}),
      ...(attributes ? { attributes } : {}),
    });
  });
  return errors.length ? { ok: false, errors } : { ok: true, instances };
}
