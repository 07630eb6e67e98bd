/**
 * Turns lifecycle events into `fleet_events` entries for the spool, so they reach InfluxDB
 * through the same durable path as everything else (docs/INFLUXDB-SCHEMA.md: tags role, kind;
 * fields text, title, ids, versions, slot, cause, progress).
 */
import type { Batch, Entry, RecordMap } from '../core/entry.ts';
import type { LifecycleEvent } from './lifecycle-event.ts';

export const FLEET_EVENTS_TAG = 'fleet_events';

const TITLES: Record<LifecycleEvent['kind'], string> = {
  launch: 'launch',
  terminate: 'terminate',
  replace: 'replacement',
  rollout_start: 'rollout started',
  rollout_progress: 'rollout progress',
  rollout_finish: 'rollout finished',
  deploy: 'deploy',
};

export function lifecycleEventEntry(e: LifecycleEvent): Entry {
  const record: RecordMap = {
    event_id: e.id,
    text: e.text,
    title: `${e.role}: ${TITLES[e.kind]}`,
  };
  const strings: [string, string | undefined][] = [
    ['instance_id', e.instanceId],
    ['old_instance_id', e.oldInstanceId],
    ['new_instance_id', e.newInstanceId],
    ['version', e.version],
    ['old_version', e.oldVersion],
    ['new_version', e.newVersion],
    ['cause', e.cause],
    ['url', e.url],
  ];
  for (const [k, v] of strings) if (v !== undefined) record[k] = v;
  if (e.slot !== undefined) record.slot = BigInt(e.slot);
  if (e.progress) {
    record.done = BigInt(e.progress.done);
    record.total = BigInt(e.progress.total);
  }
  // Floor division: for a time before 1970, `%` would give a negative nsec (and a time one
  // second off once sec and nsec are added up).
  const sec = Math.floor(e.time / 1000);
  return {
    tag: FLEET_EVENTS_TAG,
    sec,
    nsec: (e.time - sec * 1000) * 1_000_000,
    record,
    tags: { role: e.role, kind: e.kind },
    labels: {},
    instanceId: null,
  };
}

export function lifecycleEventsBatch(events: readonly LifecycleEvent[], receivedAt: number): Batch {
  return { entries: events.map(lifecycleEventEntry), origin: { input: 'internal' }, receivedAt };
}
