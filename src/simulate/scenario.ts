/**
 * The simulated fleet's schedule, as a pure function of its settings: which instance launches,
 * goes into service, and terminates when. No timers, no I/O — `simulator.ts` plays the plan.
 *
 * Times are simulated milliseconds from the start. Teams running immutable fleets report about
 * 10 minutes per rolling release and about 5 minutes to put a replacement into service, so
 * those are the defaults; `speed` divides every duration when the plan is played.
 *
 * Rolling release of a role: for each old member in turn, launch a new instance on the next
 * version, wait `inServiceAfter`, terminate the old one, move to the next. Fault: a random live
 * instance stops sending and is terminated; its replacement (same version) launches at once
 * and is in service `inServiceAfter` later.
 */
import type { Rng } from './random.ts';

export interface RoleSpec {
  role: string;
  size: number;
  version: string;
}

export interface ScenarioSpec {
  roles: RoleSpec[];
  /** Simulated ms the plan covers. */
  durationMs: number;
  /** A rolling release starts every this many simulated ms (round-robin over roles); 0 = none. */
  releaseEveryMs: number;
  /** Simulated ms for one whole rolling release (spread over the role's members). */
  releaseDurationMs: number;
  /** Simulated ms from launch to in service. */
  inServiceAfterMs: number;
  /** A fault replacement every this many simulated ms; 0 = none. */
  faultEveryMs: number;
  /** First release / fault offsets (defaults: one period in). */
  firstReleaseAtMs?: number;
  firstFaultAtMs?: number;
  /** Stop scheduling new releases after this many (0 = unlimited). */
  maxReleases?: number;
  maxFaults?: number;
}

export interface SimInstance {
  instanceId: string;
  role: string;
  version: string;
  privateIp: string;
  az: string;
}

export type PlanStep =
  | {
      at: number;
      kind: 'launch';
      instance: SimInstance;
      replaces?: string;
      cause?: 'release' | 'fault';
    }
  | { at: number; kind: 'in_service'; instanceId: string }
  | { at: number; kind: 'terminate'; instanceId: string; cause: 'release' | 'fault' | 'scale' }
  | { at: number; kind: 'fault'; instanceId: string }
  | { at: number; kind: 'release_start'; role: string; from: string; to: string };

export interface Plan {
  initial: SimInstance[];
  steps: PlanStep[];
}

const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export function nextVersion(version: string): string {
  const m = /^(.*?)(\d+)$/.exec(version);
  return m ? `${m[1]}${Number(m[2]) + 1}` : `${version}.1`;
}

export function planScenario(spec: ScenarioSpec, rng: Rng): Plan {
  const newInstance = (role: string, version: string): SimInstance => ({
    instanceId: `i-0${rng.hex(16)}`,
    role,
    version,
    privateIp: `10.0.${rng.int(0, 255)}.${rng.int(2, 254)}`,
    az: rng.pick(AZS),
  });

  const initial: SimInstance[] = [];
  const live = new Map<string, SimInstance>();
  const version = new Map<string, string>();
  for (const r of spec.roles) {
    version.set(r.role, r.version);
    for (let i = 0; i < r.size; i++) {
      const inst = newInstance(r.role, r.version);
      initial.push(inst);
      live.set(inst.instanceId, inst);
    }
  }

  const steps: PlanStep[] = [];
  // Instances busy in a release or fault are not picked for another one.
  const busyUntil = new Map<string, number>();
  const roleBusyUntil = new Map<string, number>();

  let releases = 0;
  let nextRelease =
    spec.releaseEveryMs > 0 ? (spec.firstReleaseAtMs ?? spec.releaseEveryMs) : Infinity;
  let faults = 0;
  let nextFault = spec.faultEveryMs > 0 ? (spec.firstFaultAtMs ?? spec.faultEveryMs) : Infinity;
  let roleCursor = 0;

  while (Math.min(nextRelease, nextFault) < spec.durationMs) {
    if (nextRelease <= nextFault) {
      const at = nextRelease;
      const r = spec.roles[roleCursor % spec.roles.length]!;
      roleCursor++;
      if ((roleBusyUntil.get(r.role) ?? 0) <= at) {
        const from = version.get(r.role)!;
        const to = nextVersion(from);
        version.set(r.role, to);
        steps.push({ at, kind: 'release_start', role: r.role, from, to });
        const members = [...live.values()].filter((i) => i.role === r.role);
        const per = Math.max(
          spec.releaseDurationMs / Math.max(members.length, 1),
          spec.inServiceAfterMs,
        );
        members.forEach((old, k) => {
          const t = at + k * per;
          const fresh = newInstance(r.role, to);
          steps.push({
            at: t,
            kind: 'launch',
            instance: fresh,
            replaces: old.instanceId,
            cause: 'release',
          });
          steps.push({
            at: t + spec.inServiceAfterMs,
            kind: 'in_service',
            instanceId: fresh.instanceId,
          });
          steps.push({
            at: t + spec.inServiceAfterMs,
            kind: 'terminate',
            instanceId: old.instanceId,
            cause: 'release',
          });
          live.delete(old.instanceId);
          live.set(fresh.instanceId, fresh);
          busyUntil.set(fresh.instanceId, t + spec.inServiceAfterMs);
          busyUntil.set(old.instanceId, Infinity);
        });
        roleBusyUntil.set(r.role, at + members.length * per + spec.inServiceAfterMs);
        releases++;
      }
      nextRelease =
        spec.maxReleases && releases >= spec.maxReleases ? Infinity : at + spec.releaseEveryMs;
    } else {
      const at = nextFault;
      const candidates = [...live.values()].filter(
        (i) => (busyUntil.get(i.instanceId) ?? 0) <= at && (roleBusyUntil.get(i.role) ?? 0) <= at,
      );
      if (candidates.length > 0) {
        const victim = rng.pick(candidates);
        const fresh = newInstance(victim.role, victim.version);
        steps.push({ at, kind: 'fault', instanceId: victim.instanceId });
        steps.push({ at, kind: 'terminate', instanceId: victim.instanceId, cause: 'fault' });
        steps.push({
          at,
          kind: 'launch',
          instance: fresh,
          replaces: victim.instanceId,
          cause: 'fault',
        });
        steps.push({
          at: at + spec.inServiceAfterMs,
          kind: 'in_service',
          instanceId: fresh.instanceId,
        });
        live.delete(victim.instanceId);
        live.set(fresh.instanceId, fresh);
        busyUntil.set(fresh.instanceId, at + spec.inServiceAfterMs);
        faults++;
      }
      nextFault = spec.maxFaults && faults >= spec.maxFaults ? Infinity : at + spec.faultEveryMs;
    }
  }
  // Stable order: by time, then by the order generated (sort is stable).
  steps.sort((a, b) => a.at - b.at);
  return { initial, steps: steps.filter((s) => s.at <= spec.durationMs) };
}
