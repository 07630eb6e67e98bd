/**
 * The `records` registry source: role and version labels the agents put into the records
 * themselves (`registry.records.role_key` / `version_key`). An instance first seen with role X
 * and version V in its records is registered (a `seen` observation); the registry lets these
 * labels define only instances no authoritative source (EC2, static file, pushed events) owns.
 *
 * Bounds: these values become labels, hence InfluxDB tags, and InfluxDB refuses a point whose
 * series key passes 64 KB. A value longer than `MAX_RECORD_LABEL_CHARS` or blank (whitespace
 * only) is refused: the record reports no role/version at all (it still flows, labelled as its
 * instance is known, or `role=unknown`), counted in `fleetline_fleet_record_labels_refused_total`
 * by key and reason, logged at most once a minute. An empty string is an absent value.
 *
 * `recordLabels` and `recordSeen` are pure; `createSeenReporter` remembers what it last
 * reported per instance so the labelling stage reports a change once, not once per record.
 */
import type { Deps } from '../../core/deps.ts';
import type { RecordMap } from '../../core/entry.ts';
import { logThrottle } from '../../telemetry/log-throttle.ts';
import { counter } from '../../telemetry/metrics.ts';
import type { Observation } from '../observation.ts';
import type { Span } from '../registry.ts';

export interface RecordsSourceConfig {
  role_key: string;
  version_key: string;
}

/** The longest role or version a record may report (characters). */
export const MAX_RECORD_LABEL_CHARS = 256;

export type LabelRefusal = 'too_long' | 'blank';

/** Why a non-empty reported value is refused, or undefined when it is fine. */
export function refusalOf(value: string): LabelRefusal | undefined {
  if (value.length > MAX_RECORD_LABEL_CHARS) return 'too_long';
  // trim() returns the string itself when there is nothing to trim: no allocation per record.
  return value.trim() === '' ? 'blank' : undefined;
}

/** The role (and version, if any) a record reports, or undefined: none, or refused. */
export function recordLabels(
  record: RecordMap,
  config: RecordsSourceConfig,
): { role: string; version?: string } | undefined {
  const role = record[config.role_key];
  if (typeof role !== 'string' || role === '' || refusalOf(role) !== undefined) return undefined;
  const version = record[config.version_key];
  if (typeof version !== 'string' || version === '') return { role };
  return refusalOf(version) === undefined ? { role, version } : undefined;
}

/** The `seen` observation a record implies for `instanceId`, or undefined if it has no role. */
export function recordSeen(
  record: RecordMap,
  config: RecordsSourceConfig,
  instanceId: string,
  atMs: number,
): Observation | undefined {
  const labels = recordLabels(record, config);
  if (labels === undefined) return undefined;
  return { kind: 'seen', at: atMs, source: 'records', facts: { instanceId, ...labels } };
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
export function createSeenReporter(
  config: RecordsSourceConfig,
  deps: Deps,
  capacity = 100_000,
): SeenReporter {
  const reported = new Map<string, string>();
  const unsettled = new Set<string>();
  const refused = counter(
    deps.metrics,
    'fleetline_fleet_record_labels_refused_total',
    `record role/version values refused (blank, or longer than ${MAX_RECORD_LABEL_CHARS} characters); the record reports no role/version`,
    ['key', 'reason'],
  );
  const logRefusal = logThrottle(60_000, () => deps.clock.now());
  /** Counts (and now and then logs) a refused value; the record reports nothing. */
  const refuse = (
    key: string,
    value: string,
    reason: LabelRefusal,
    claim: Span | string,
  ): undefined => {
    refused.inc({ key, reason });
    if (!logRefusal()) return undefined;
    deps.log.warn(
      {
        event: 'fleet_record_label_refused',
        key,
        reason,
        chars: value.length,
        value: value.slice(0, 64),
        instance: typeof claim === 'string' ? claim : claim.instanceId,
      },
      'record role/version value refused; the record reports no role/version',
    );
    return undefined;
  };
  return {
    report(record, claim, atMs) {
      const role = record[config.role_key];
      if (typeof role !== 'string' || role === '') return undefined;
      const version = record[config.version_key];
      // Length first (O(1)): a 70 KB value must not be concatenated and hashed below.
      if (role.length > MAX_RECORD_LABEL_CHARS)
        return refuse(config.role_key, role, 'too_long', claim);
      if (typeof version === 'string' && version.length > MAX_RECORD_LABEL_CHARS)
        return refuse(config.version_key, version, 'too_long', claim);
      const key = typeof version === 'string' ? `${role}\u0000${version}` : role;
      const resolved = typeof claim !== 'string';
      const instanceId = resolved ? claim.instanceId : claim;
      if (reported.get(instanceId) === key && (resolved || unsettled.has(instanceId)))
        return undefined;
      // Only values about to be reported get here (a refused one is never remembered, so it
      // comes here every time): the blank check costs nothing per record.
      if (refusalOf(role) !== undefined) return refuse(config.role_key, role, 'blank', claim);
      if (typeof version === 'string' && version !== '' && refusalOf(version) !== undefined)
        return refuse(config.version_key, version, 'blank', claim);
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
