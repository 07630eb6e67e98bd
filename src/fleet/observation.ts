/**
 * What fleet sources tell the registry. Every source (EC2 discovery, the static inventory file,
 * labels inside records, EventBridge/Auto Scaling events, CI deploy events) turns what it
 * learns into `Observation`s; the registry applies them in order. Sources do no bookkeeping
 * of their own: they report facts with the time the fact became true.
 */

/** Facts about one instance. Absent fields are "not known by this source", not "empty". */
export interface InstanceFacts {
  instanceId: string;
  role?: string;
  version?: string;
  az?: string;
  ami?: string;
  privateIp?: string;
  privateDns?: string;
  /** Any further attributes (EC2 tags, static file keys), usable as extra labels. */
  attributes?: Record<string, string>;
  /** Epoch ms the instance launched, when the source knows it (EC2 LaunchTime, static file). */
  launchedAt?: number;
  /** Epoch ms the instance ended, for sources that list past instances (static file). */
  terminatedAt?: number;
}

export type Observation =
  /** The instance is running (launched at `launchedAt` when the source knows it). */
  | {
      kind: 'running';
      at: number;
      facts: InstanceFacts;
      launchedAt?: number;
      source: ObservationSource;
    }
  /** The instance is gone (terminated, or stopped for good). */
  | { kind: 'terminated'; at: number; instanceId: string; source: ObservationSource; cause?: Cause }
  /**
   * A full listing from a source that sees everything it owns (EC2 DescribeInstances, the
   * static file): instances it owned before and no longer lists are terminated at `at`.
   */
  | { kind: 'snapshot'; at: number; instances: InstanceFacts[]; source: ObservationSource }
  /** First/last record seen from an instance (record-label source, identity resolution). */
  | { kind: 'seen'; at: number; facts: InstanceFacts; source: ObservationSource }
  /** A CI pipeline announced a deploy. */
  | {
      kind: 'deploy';
      at: number;
      role: string;
      version: string;
      phase: 'started' | 'finished';
      text?: string;
      url?: string;
      source: ObservationSource;
    };

export type ObservationSource =
  | 'ec2'
  | 'static'
  | 'records'
  | 'eventbridge'
  | 'autoscaling'
  | 'deploy-api';

export type Cause = 'release' | 'fault' | 'scale' | 'unknown';

/** The registry's input port. */
export interface ObservationSink {
  observe(observations: readonly Observation[]): void;
}
