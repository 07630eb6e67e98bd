/**
 * Identity resolution: which instance produced an entry.
 *
 * Claims are tried in order: the configured record keys (`registry.identity_keys`), the
 * line-protocol tags `instance_id` and `host`, and the hostname a Forward client proved in
 * its handshake. Each claim is looked up in the registry (instance id, private IP, private DNS
 * name or short hostname) at the entry's event time; the first that resolves wins.
 *
 * The connection's peer address is the last resort and only when the entry claims nothing:
 * a peer is often an aggregator or proxy forwarding other instances' records, so a record
 * that names an instance the registry does not know yet must wait for discovery rather than
 * be pinned on whoever forwarded it.
 *
 * Result: the resolved span, the first claim (a string: known identity, not yet in the
 * registry, worth holding for), or null (no identity at all).
 */
import type { Entry, Origin, RecordMap } from '../core/entry.ts';
import type { Span } from './registry.ts';

/**
 * The registry's lookup. `record` is the entry's record: an instance the idle sweep ended comes
 * back through the lookup of its record (registry.ts), with the role/version that record says.
 */
export type Lookup = (key: string, atMs: number, record: RecordMap) => Span | undefined;

const TAG_KEYS = ['instance_id', 'host'] as const;

export function resolveIdentity(
  entry: Entry,
  origin: Origin,
  keys: readonly string[],
  lookup: Lookup,
  atMs: number,
): Span | string | null {
  let claim: string | undefined;
  const record = entry.record;
  for (let i = 0; i < keys.length; i++) {
    const v = record[keys[i]!];
    if (typeof v !== 'string' || v === '') continue;
    const span = lookup(v, atMs, record);
    if (span) return span;
    claim ??= v;
  }
  const tags = entry.tags;
  if (tags) {
    for (const k of TAG_KEYS) {
      const v = tags[k];
      if (v === undefined || v === '') continue;
      const span = lookup(v, atMs, record);
      if (span) return span;
      claim ??= v;
    }
  }
  if (origin.authHostname) {
    const span = lookup(origin.authHostname, atMs, record);
    if (span) return span;
    claim ??= origin.authHostname;
  }
  if (claim !== undefined) return claim;
  if (origin.peerAddress) return lookup(origin.peerAddress, atMs, record) ?? null;
  return null;
}
