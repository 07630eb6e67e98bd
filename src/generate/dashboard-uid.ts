/**
 * Stable Grafana uids. A uid is what makes a push an update instead of a duplicate, so it must
 * be a pure function of the role: `<prefix>-<slug>-<hash>`, at most 40 characters from
 * `[a-z0-9-]`. The slug keeps it readable; the hash of the exact role name keeps two roles
 * whose slugs coincide (`Web`, `web!`) or are truncated apart.
 */
import { createHash } from 'node:crypto';

const MAX_UID = 40;
const HASH_CHARS = 8;

export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function shortHash(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, HASH_CHARS);
}

/** `stableUid('fl-role', 'web')` → `fl-role-web-<8 hex>`. */
export function stableUid(prefix: string, name: string): string {
  const room = MAX_UID - prefix.length - HASH_CHARS - 2;
  const s = slug(name).slice(0, room).replace(/-+$/, '');
  return s ? `${prefix}-${s}-${shortHash(name)}` : `${prefix}-${shortHash(name)}`;
}

export const OVERVIEW_UID = 'fl-fleet-overview';
export const roleDashboardUid = (role: string) => stableUid('fl-role', role);
export const versionsDashboardUid = (role: string) => stableUid('fl-ver', role);

export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= MAX_UID && /^[a-z0-9_-]+$/.test(uid);
}
