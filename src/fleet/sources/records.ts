/**
 * The `records` registry source: role and version labels the agents put into the records
 * themselves (`registry.records.role_key` / `version_key`). An instance first seen with role X
 * and version V in its records is registered (a `seen` observation); the registry lets these
 * labels define only instances no authoritative source (EC2, static file, pushed events) owns.
 *
 * `recordSeen` is pure; `createSeenReporter` remembers what it last reported per instance so
 * the labelling stage reports a change once, not once per record.
 */
import type { RecordMap } from '../../core/entry.ts';
import type { Observation } from '../observation.ts';
import type { Span } from '../registry.ts';

export interface RecordsSourceConfig {
  role_key: string;
  version_key: string;
}

/** The `seen` observation a record implies for `instanceId`, or undefined if it has no role. */
export function recordSeen(
  record: RecordMap,
  config: RecordsSourceConfig,
  instanceId: string,
  atMs: number,
): Observation | undefined {
  const role = record[config.role_key];
  if (typeof role !== 'string' || role === '') return undefined;
  const version = record[config.version_key];
  return {
    kind: 'seen',
    at: atMs,
    source: 'records',
    facts: {
      instanceId,
      role,
      ...(typeof version === 'string' && version !== '' ? { version } : {}),
    },
  };
}

export interface SeenReporter {
  /**
   * The observation to report for this record, or undefined when nothing changed. `claim` is
   * what identity resolution found: the instance's span, or the id the registry does not know.
   */
  report(record: RecordMap, claim: Span | string, atMs: number): Observation | undefined;
  /** The reports made so far reached the registry (or failed and were forgotten). */
  settle(): void;
  /** Forgets what was reported for an instance (the report did not reach the registry). */
  forget(instanceId: string): void;
}

/**
 * Keeps at most `capacity` instances in mind; beyond that it forgets all and starts over.
 *
 * An instance reported before whose records no longer resolve was forgotten by the registry
 * (terminated longer than the history window ago): its records report it again, or they would
 * stay `role=unknown` until this memory is cleared. Only not twice before `settle()`: the rest
 * of the batch that reported a new instance does not resolve yet either.
 */
export function createSeenReporter(config: RecordsSourceConfig, capacity = 100_000): SeenReporter {
  const reported = new Map<string, string>();
  const unsettled = new Set<string>();
  return {
    report(record, claim, atMs) {
      const role = record[config.role_key];
      if (typeof role !== 'string' || role === '') return undefined;
      const version = record[config.version_key];
      const key = typeof version === 'string' ? `${role}\u0000${version}` : role;
      const resolved = typeof claim !== 'string';
      const instanceId = resolved ? claim.instanceId : claim;
      if (reported.get(instanceId) === key && (resolved || unsettled.has(instanceId)))
        return undefined;
      if (reported.size >= capacity) reported.clear();
      reported.set(instanceId, key);
      if (!resolved) unsettled.add(instanceId);
      return recordSeen(record, config, instanceId, atMs);
    },
    settle() {
      unsettled.clear();
    },
    forget(instanceId) {
      reported.delete(instanceId);
      unsettled.delete(instanceId);
    },
  };
}
