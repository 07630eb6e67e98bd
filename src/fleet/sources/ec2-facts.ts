/**
 * Turns one complete DescribeInstances listing into registry observations. Pure: the EC2
 * source does the I/O and hands the listing, the clock reading, the AMI versions it looked up
 * and what it reported last time.
 *
 * What one successful refresh reports, in this order, in one `observe()` call:
 * 1. `running` for each pending/running instance not reported by the previous refresh
 *    (`launchedAt` = LaunchTime): the only observation that carries the launch time, and
 *    sending it once per instance keeps the registry's input small at steady state;
 * 2. `terminated` for each shutting-down/terminated instance not reported before, at the
 *    time EC2 gives in the state-transition reason (`User initiated (2026-11-27 11:58:00 GMT)`)
 *    or else now. EC2 keeps listing terminated instances for about an hour; one report is
 *    enough. stopping/stopped instances are neither: a snapshot without them ends them;
 * 3. one `snapshot` with the facts of every pending/running instance, so instances that
 *    vanished from the listing without a terminated state are ended by the registry, and
 *    changed tags (a new Version tag) reach it.
 *
 * Facts: role and version from the configured tags; the version falls back to the AMI's
 * version tag, then to an Auto Scaling group name ending in `-v<digits>` (Asgard-style
 * `web-v123` → `v123`). `attributes` holds every tag, plus `launch_time` (epoch ms as a
 * string; informational, not meant as a label since it is unique per instance).
 */
import type { Instance } from '@aws-sdk/client-ec2';
import type { InstanceFacts, Observation } from '../observation.ts';

export interface ListingContext {
  /** When the listing was asked for: what it shows was true then (later ends are newer). */
  now: number;
  roleTag: string;
  versionTag: string;
  /** Versions found on AMIs by `ami_version_tag`, by image id (missing = unknown). */
  amiVersions: ReadonlyMap<string, string>;
  /** Instance ids reported as running / terminated by the previous successful refresh. */
  previousRunning: ReadonlySet<string>;
  previousTerminated: ReadonlySet<string>;
}

export interface ListingResult {
  observations: Observation[];
  running: Set<string>;
  terminated: Set<string>;
}

const ASG_TAG = 'aws:autoscaling:groupName';
const ASG_VERSION = /-(v\d+)$/;

export type InstanceLiveness = 'live' | 'gone' | 'stopped';

export function livenessOf(instance: Instance): InstanceLiveness {
  const state = instance.State?.Name;
  if (state === 'pending' || state === 'running') return 'live';
  if (state === 'shutting-down' || state === 'terminated') return 'gone';
  return 'stopped';
}

export function tagsOf(instance: Instance): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of instance.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return tags;
}

/** `web-v123` → `v123`; undefined when the group name carries no version. */
export function versionFromAsgName(name: string | undefined): string | undefined {
  return name ? ASG_VERSION.exec(name)?.[1] : undefined;
}

/** Image ids whose version the AMI tag must supply (the instance has no version tag). */
export function imagesNeedingVersion(instances: readonly Instance[], versionTag: string): string[] {
  const ids = new Set<string>();
  for (const i of instances) {
    if (livenessOf(i) !== 'live' || !i.ImageId) continue;
    if (!tagsOf(i)[versionTag]) ids.add(i.ImageId);
  }
  return [...ids];
}

export function factsOf(
  instance: Instance,
  ctx: Pick<ListingContext, 'roleTag' | 'versionTag' | 'amiVersions'>,
): InstanceFacts {
  const tags = tagsOf(instance);
  const attributes: Record<string, string> = { ...tags };
  const launched = instance.LaunchTime?.getTime();
  if (launched !== undefined && Number.isFinite(launched))
    attributes.launch_time = String(launched);
  const version =
    nonEmpty(tags[ctx.versionTag]) ??
    (instance.ImageId ? nonEmpty(ctx.amiVersions.get(instance.ImageId)) : undefined) ??
    versionFromAsgName(tags[ASG_TAG]);
  return {
    instanceId: instance.InstanceId!,
    ...optional('role', nonEmpty(tags[ctx.roleTag])),
    ...optional('version', version),
    ...optional('az', nonEmpty(instance.Placement?.AvailabilityZone)),
    ...optional('ami', nonEmpty(instance.ImageId)),
    ...optional('privateIp', nonEmpty(instance.PrivateIpAddress)),
    ...optional('privateDns', nonEmpty(instance.PrivateDnsName)),
    // The registry compares it with a pushed end: a LaunchTime after it means started again.
    ...(launched !== undefined && Number.isFinite(launched) ? { launchedAt: launched } : {}),
    attributes,
  };
}

/**
 * The time an instance left `running`, from EC2's state-transition reason, e.g.
 * `User initiated (2026-11-27 11:58:00 GMT)`; undefined when the reason carries none.
 */
export function terminatedAtOf(instance: Instance): number | undefined {
  const m = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(
    instance.StateTransitionReason ?? '',
  );
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

export function observationsFromListing(
  instances: readonly Instance[],
  ctx: ListingContext,
): ListingResult {
  const runningObs: Observation[] = [];
  const terminatedObs: Observation[] = [];
  const live: InstanceFacts[] = [];
  const running = new Set<string>();
  const terminated = new Set<string>();
  for (const instance of instances) {
    const id = instance.InstanceId;
    if (!id) continue;
    const liveness = livenessOf(instance);
    if (liveness === 'live') {
      // An id can appear twice only if a page boundary moved; report it once.
      if (running.has(id)) continue;
      running.add(id);
      const facts = factsOf(instance, ctx);
      live.push(facts);
      if (!ctx.previousRunning.has(id)) {
        const launchedAt = instance.LaunchTime?.getTime();
        runningObs.push({
          kind: 'running',
          at: ctx.now,
          facts,
          ...(launchedAt !== undefined && Number.isFinite(launchedAt) ? { launchedAt } : {}),
          source: 'ec2',
        });
      }
    } else if (liveness === 'gone') {
      if (terminated.has(id)) continue;
      terminated.add(id);
      if (!ctx.previousTerminated.has(id))
        terminatedObs.push({
          kind: 'terminated',
          at: Math.min(terminatedAtOf(instance) ?? ctx.now, ctx.now),
          instanceId: id,
          source: 'ec2',
        });
    }
  }
  const snapshot: Observation = { kind: 'snapshot', at: ctx.now, instances: live, source: 'ec2' };
  return { observations: [...runningObs, ...terminatedObs, snapshot], running, terminated };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
