/**
 * The lifecycle tracker: a pure state machine over registry changes.
 *
 *   step(state, change, settings) → { state, events }
 *
 * No I/O, no clock, no logger: time comes from the change itself, so replaying the same changes
 * gives the same events (with the same ids). The registry owns membership and reports each
 * launch/termination exactly once, so the tracker keeps member *counts* per version, which
 * keeps a step O(1) in the role's size (an EC2 first listing of 10,000 instances is 10,000
 * steps). The registry feeds it what it changed (a member
 * launched, terminated or moved to another version) and deploy announcements; the tracker
 * pairs terminations and launches of one role within the replace window into `replace` events
 * and follows a role's members from one version to the next as a rollout.
 *
 * Pairing: a launch pairs with the pending termination that freed the same slot, else the
 * oldest pending one; a termination pairs with the oldest pending launch of *another* version
 * (surge-first releases launch before they terminate). A same-version launch followed by a
 * termination is not paired: that is as likely a scale-out then a scale-in, and the initial
 * launches of a fleet would otherwise pair with its first termination. A termination reported with cause `scale` is a
 * scale-in and never pairs. A replace whose new instance runs another version is a `release`;
 * same version is a `fault`, unless the termination reported a cause.
 *
 * Rollout: a member appearing with a version the role did not run while others run another
 * version starts a rollout (from the most common old version to the new one); `progress` is
 * emitted whenever the number of members on the new version changes, `finish` when no member
 * runs anything else (or when the new version has no member left: abandoned).
 */
import { createHash } from 'node:crypto';
import type { LifecycleEvent, LifecycleEventKind } from './lifecycle-event.ts';
import type { Cause } from './observation.ts';

/** What the registry changed, in the order it changed it. */
export type TrackerChange =
  | {
      kind: 'launch';
      at: number;
      instanceId: string;
      role: string;
      version: string;
      slot: number;
      /**
       * An instance that was terminated comes back (the idle sweep's end refuted by its
       * records, or a listing showing it again): still a `launch`, said to be a return, and
       * never paired as a replace: it does not replace itself, nor anyone else.
       */
      returning?: boolean;
    }
  | {
      kind: 'terminate';
      at: number;
      instanceId: string;
      role: string;
      version: string;
      slot: number;
      cause?: Cause;
    }
  | {
      kind: 'version_change';
      at: number;
      instanceId: string;
      role: string;
      oldVersion: string;
      newVersion: string;
      slot: number;
    }
  | {
      kind: 'deploy';
      at: number;
      role: string;
      version: string;
      phase: 'started' | 'finished';
      text?: string;
      url?: string;
    };

interface PendingTermination {
  instanceId: string;
  version: string;
  slot: number;
  at: number;
  cause?: Cause;
}

interface PendingLaunch {
  instanceId: string;
  version: string;
  slot: number;
  at: number;
}

interface Rollout {
  from: string;
  to: string;
  startedAt: number;
  done: number;
}

export interface RoleTrack {
  /** Live members per version. Counts, not ids: a step must stay O(1) in the role's size. */
  versions: Record<string, number>;
  pendingTerminations: PendingTermination[];
  pendingLaunches: PendingLaunch[];
  rollout?: Rollout;
}

/** Plain JSON so the registry can persist it as is. */
export interface TrackerState {
  roles: Record<string, RoleTrack>;
}

export interface TrackerSettings {
  replaceWindowMs: number;
}

export const emptyTrackerState = (): TrackerState => ({ roles: {} });

/** The slot a launch in `role` at `at` should take to inherit its predecessor's (if any). */
export function inheritableSlot(
  state: TrackerState,
  role: string,
  at: number,
  settings: TrackerSettings,
): number | undefined {
  const pending = state.roles[role]?.pendingTerminations ?? [];
  return pending.find((p) => at - p.at <= settings.replaceWindowMs)?.slot;
}

export function step(
  state: TrackerState,
  change: TrackerChange,
  settings: TrackerSettings,
): { state: TrackerState; events: LifecycleEvent[] } {
  const prev = state.roles[change.role];
  const track: RoleTrack = prev
    ? {
        versions: { ...prev.versions },
        pendingTerminations: prev.pendingTerminations.filter(
          (p) => change.at - p.at <= settings.replaceWindowMs,
        ),
        pendingLaunches: prev.pendingLaunches.filter(
          (p) => change.at - p.at <= settings.replaceWindowMs,
        ),
        ...(prev.rollout ? { rollout: { ...prev.rollout } } : {}),
      }
    : { versions: {}, pendingTerminations: [], pendingLaunches: [] };
  const events: LifecycleEvent[] = [];
  const role = change.role;

  switch (change.kind) {
    case 'launch': {
      const before = new Set(liveVersions(track));
      add(track, change.version, 1);
      events.push(
        makeEvent({
          kind: 'launch',
          time: change.at,
          role,
          instanceId: change.instanceId,
          version: change.version,
          slot: change.slot,
          text: `${change.instanceId} ${change.returning ? 'returned' : 'launched'} (${change.version}, slot ${change.slot})`,
        }),
      );
      // An instance that comes back (ended by the idle sweep, then listed again or speaking
      // again) returns; it does not replace itself, nor anyone else.
      const own = track.pendingTerminations.findIndex((p) => p.instanceId === change.instanceId);
      if (own >= 0) track.pendingTerminations.splice(own, 1);
      const back = own >= 0 || change.returning === true;
      const idx = back ? -1 : pickTermination(track.pendingTerminations, change.slot);
      if (idx >= 0) {
        const old = track.pendingTerminations.splice(idx, 1)[0]!;
        // A one-member role replaced terminate-first has no other member left; its
        // predecessor's version is what the rollout moves away from.
        before.add(old.version);
        events.push(replaceEvent(role, change.at, old, change, change.slot, old.cause));
      } else if (!back && [...before].some((v) => v !== change.version)) {
        // Only a launch of a version the role does not all run yet can be the first half of a
        // surge-first replacement; the initial members of a fleet are not.
        track.pendingLaunches.push({
          instanceId: change.instanceId,
          version: change.version,
          slot: change.slot,
          at: change.at,
        });
      }
      events.push(...rolloutEvents(track, before, change.version, change.at, role));
      break;
    }
    case 'terminate': {
      const before = new Set(liveVersions(track));
      add(track, change.version, -1);
      events.push(
        makeEvent({
          kind: 'terminate',
          time: change.at,
          role,
          instanceId: change.instanceId,
          version: change.version,
          slot: change.slot,
          ...(change.cause ? { cause: change.cause } : {}),
          text: `${change.instanceId} terminated (${change.version}, slot ${change.slot}${change.cause ? `, ${change.cause}` : ''})`,
        }),
      );
      // A launch that paired before may be the same instance flapping; never pair with itself.
      track.pendingLaunches = track.pendingLaunches.filter(
        (p) => p.instanceId !== change.instanceId,
      );
      const old: PendingTermination = {
        instanceId: change.instanceId,
        version: change.version,
        slot: change.slot,
        at: change.at,
        ...(change.cause ? { cause: change.cause } : {}),
      };
      if (change.cause !== 'scale') {
        const i = track.pendingLaunches.findIndex((p) => p.version !== change.version);
        const launch = i >= 0 ? track.pendingLaunches.splice(i, 1)[0] : undefined;
        if (launch)
          events.push(replaceEvent(role, change.at, old, launch, launch.slot, change.cause));
        else track.pendingTerminations.push(old);
      }
      events.push(...rolloutEvents(track, before, undefined, change.at, role));
      break;
    }
    case 'version_change': {
      const before = new Set(liveVersions(track));
      add(track, change.oldVersion, -1);
      add(track, change.newVersion, 1);
      events.push(...rolloutEvents(track, before, change.newVersion, change.at, role));
      break;
    }
    case 'deploy': {
      events.push(
        makeEvent({
          kind: 'deploy',
          time: change.at,
          role,
          version: change.version,
          text: change.text ?? `deploy of ${change.version} ${change.phase}`,
          ...(change.url ? { url: change.url } : {}),
        }),
      );
      break;
    }
  }
  return { state: { roles: { ...state.roles, [role]: track } }, events };
}

function pickTermination(pending: PendingTermination[], slot: number): number {
  if (pending.length === 0) return -1;
  const same = pending.findIndex((p) => p.slot === slot);
  return Math.max(same, 0);
}

function replaceEvent(
  role: string,
  at: number,
  old: { instanceId: string; version: string },
  neu: { instanceId: string; version: string },
  slot: number,
  reported: Cause | undefined,
): LifecycleEvent {
  const cause: Cause = reported ?? (old.version !== neu.version ? 'release' : 'fault');
  const versions = old.version === neu.version ? old.version : `${old.version} → ${neu.version}`;
  return makeEvent({
    kind: 'replace',
    time: at,
    role,
    oldInstanceId: old.instanceId,
    newInstanceId: neu.instanceId,
    oldVersion: old.version,
    newVersion: neu.version,
    slot,
    cause,
    text: `${old.instanceId} → ${neu.instanceId} (${versions}, ${cause}, slot ${slot})`,
  });
}

function liveVersions(track: RoleTrack): string[] {
  return Object.keys(track.versions).filter((v) => (track.versions[v] ?? 0) > 0);
}

function add(track: RoleTrack, version: string, n: number): void {
  const next = (track.versions[version] ?? 0) + n;
  if (next > 0) track.versions[version] = next;
  else delete track.versions[version];
}

function rolloutEvents(
  track: RoleTrack,
  before: Set<string>,
  arrived: string | undefined,
  at: number,
  role: string,
): LifecycleEvent[] {
  const total = Object.values(track.versions).reduce((a, b) => a + b, 0);
  const count = (v: string) => track.versions[v] ?? 0;
  const events: LifecycleEvent[] = [];
  if (!track.rollout && arrived !== undefined && !before.has(arrived)) {
    const others = liveVersions(track).filter((v) => v !== arrived);
    if (others.length > 0 || before.size > 0) {
      const from = mostCommon(others.length > 0 ? others : [...before], track.versions);
      const done = count(arrived);
      track.rollout = { from, to: arrived, startedAt: at, done };
      events.push(
        makeEvent({
          kind: 'rollout_start',
          time: at,
          role,
          oldVersion: from,
          newVersion: arrived,
          progress: { done, total },
          text: `rollout ${from} → ${arrived} started (${done}/${total})`,
        }),
      );
      if (done === total) events.push(finishEvent(track, role, at, done, total, 'finished'));
      return events;
    }
  }
  const r = track.rollout;
  if (!r) return events;
  const done = count(r.to);
  if (total > 0 && done === total) {
    events.push(finishEvent(track, role, at, done, total, 'finished'));
  } else if (done === 0) {
    events.push(finishEvent(track, role, at, done, total, 'abandoned'));
  } else if (done !== r.done) {
    r.done = done;
    events.push(
      makeEvent({
        kind: 'rollout_progress',
        time: at,
        role,
        oldVersion: r.from,
        newVersion: r.to,
        progress: { done, total },
        text: `rollout ${r.from} → ${r.to}: ${done}/${total}`,
      }),
    );
  }
  return events;
}

function finishEvent(
  track: RoleTrack,
  role: string,
  at: number,
  done: number,
  total: number,
  how: 'finished' | 'abandoned',
): LifecycleEvent {
  const r = track.rollout!;
  delete track.rollout;
  return makeEvent({
    kind: 'rollout_finish',
    time: at,
    role,
    oldVersion: r.from,
    newVersion: r.to,
    progress: { done, total },
    text: `rollout ${r.from} → ${r.to} ${how} (${done}/${total})`,
  });
}

function mostCommon(candidates: string[], counts: Record<string, number>): string {
  let best = candidates[0] ?? '';
  let n = -1;
  // Ties break by name so the choice does not depend on arrival order.
  for (const v of candidates) {
    const c = counts[v] ?? 0;
    if (c > n || (c === n && v < best)) [best, n] = [v, c];
  }
  return best;
}

/** Builds an event with an id derived from its content, so re-emitting it is idempotent. */
export function makeEvent(
  fields: Omit<LifecycleEvent, 'id'> & { kind: LifecycleEventKind },
): LifecycleEvent {
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        fields.kind,
        fields.time,
        fields.role,
        fields.instanceId ?? '',
        fields.oldInstanceId ?? '',
        fields.newInstanceId ?? '',
        fields.version ?? '',
        fields.oldVersion ?? '',
        fields.newVersion ?? '',
        fields.slot ?? '',
        fields.progress?.done ?? '',
        fields.progress?.total ?? '',
      ]),
    )
    .digest('hex')
    .slice(0, 20);
  return { id, ...fields };
}
