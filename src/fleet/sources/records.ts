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
  /** The observation to report for this record, or undefined when nothing changed. */
  report(record: RecordMap, instanceId: string, atMs: number): Observation | undefined;
  /** Forgets what was reported for an instance (the report did not reach the registry). */
  forget(instanceId: string): void;
}

/** Keeps at most `capacity` instances in mind; beyond that it forgets all and starts over. */
export function createSeenReporter(config: RecordsSourceConfig, capacity = 100_000): SeenReporter {
  const reported = new Map<string, string>();
  return {
    report(record, instanceId, atMs) {
      const role = record[config.role_key];
      if (typeof role !== 'string' || role === '') return undefined;
      const version = record[config.version_key];
      const key = typeof version === 'string' ? `${role}\u0000${version}` : role;
      if (reported.get(instanceId) === key) return undefined;
      if (reported.size >= capacity) reported.clear();
      reported.set(instanceId, key);
      return recordSeen(record, config, instanceId, atMs);
    },
    forget(instanceId) {
      reported.delete(instanceId);
    },
  };
}
