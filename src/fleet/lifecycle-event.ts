/**
 * The lifecycle events the tracker emits (BRIEF §5): stored in the embedded store, served by
 * `GET /api/events`, written to InfluxDB as `fleet_events`, shown as Grafana annotations.
 */
import type { Cause } from './observation.ts';

export type LifecycleEventKind =
  | 'launch'
  | 'terminate'
  | 'replace'
  | 'rollout_start'
  | 'rollout_progress'
  | 'rollout_finish'
  | 'deploy';

export interface LifecycleEvent {
  /** Stable id (deterministic from content) so re-emitting the same event is idempotent. */
  id: string;
  kind: LifecycleEventKind;
  /** Epoch ms when it happened. */
  time: number;
  role: string;
  /** Human-readable one-liner for annotations: "i-0abc → i-0def (1.4.2 → 1.4.3, release)". */
  text: string;
  instanceId?: string;
  oldInstanceId?: string;
  newInstanceId?: string;
  version?: string;
  oldVersion?: string;
  newVersion?: string;
  slot?: number;
  cause?: Cause;
  /** rollout_progress: members on the new version / total members. */
  progress?: { done: number; total: number };
  url?: string;
}
