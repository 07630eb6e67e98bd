/**
 * The fleet registry: which instance had which role, version and slot, when.
 *
 * Sources report `Observation`s (`observe`); the registry turns them into a time-versioned
 * history per instance, assigns stable slots, feeds the lifecycle tracker and persists
 * everything to the embedded store in the same call. Lookups (`lookup`) are the hot path of
 * the labelling stage and never touch SQLite: the whole registry lives in memory, mirrored
 * write-through to SQLite and loaded back on `start()`.
 *
 *   byId      instance id ───────────────► InstanceRecord ──spans──► [Span, Span, …]
 *   byAddress private ip / dns / short  ─► [InstanceRecord, …]        (from, to, role,
 *             hostname (ip-10-0-1-5)         (IPs are reused: pick      version, slot,
 *                                             the one live at t)        labels)
 *   byRole    role ──────────────────────► Set<InstanceRecord> (members() and roles())
 *
 * A span covers [from, to) with `to = Infinity` while open. A record resolves by its *event
 * time*: late records from an instance that has since been terminated, or that ran an older
 * version then, get the labels that were true when they were produced.
 *
 * Precedence: role/version reported by `records` (labels inside the records) only define an
 * instance no other source knows, or one that only `records` defined; an authoritative source
 * (EC2, static file, pushed events) always wins.
 *
 * Ends: each instance remembers which source ended it. The idle sweep's end is a guess from
 * silence (reported as the `records` source), so a record dated after it refutes it: the
 * lookup that resolves such a record brings the instance back (a new span, a `launch` event
 * saying it returned, its own slot when still free), with the role/version that record reports
 * when records define the instance: a return is not followed by a change at the same moment.
 * Any other end stays for records.
 *
 * EC2's DescribeInstances lags behind pushed events: the listing after an EventBridge / Auto
 * Scaling termination may still show the instance pending/running. For
 * `registry.termination_grace` after a pushed end, an EC2 report of the instance as live does
 * not bring it back (counted in `fleetline_fleet_stale_live_reports_total`) unless it carries
 * a LaunchTime after that end (a stopped instance started again); after the grace, a listing
 * that still shows it wins (the pushed event was wrong).
 */

import { parseDuration } from '../config/duration.ts';
import type { Config, RegistryConfig } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import type { Labels, RecordMap } from '../core/entry.ts';
import { type Component, component } from '../core/lifecycle.ts';
import type { InstanceModel, RoleModel } from '../generate/model.ts';
import type { Db, Store } from '../store/sqlite.ts';
import { logThrottle } from '../telemetry/log-throttle.ts';
import { counter, gauge } from '../telemetry/metrics.ts';
import type { EventStore } from './event-store.ts';
import type { LifecycleEvent } from './lifecycle-event.ts';
import {
  emptyTrackerState,
  inheritableSlot,
  step,
  type TrackerChange,
  type TrackerSettings,
  type TrackerState,
} from './lifecycle-tracker.ts';
import type {
  Cause,
  InstanceFacts,
  Observation,
  ObservationSink,
  ObservationSource,
} from './observation.ts';
import { createSlotTable } from './slots.ts';
import { recordLabels } from './sources/records.ts';

/** One stretch of an instance's life with fixed role/version/slot. */
export interface Span {
  readonly instanceId: string;
  readonly from: number;
  /** Exclusive end; Infinity while open. */
  to: number;
  readonly role: string;
  readonly version: string;
  readonly slot: number;
  /** role, version, slot and configured extras; shared and frozen: treat as read-only. */
  labels: Labels;
  /**
   * The labelling stage's memo of `relabel(labels)` for this span (relabel is pure, so the
   * result only changes when `labels` or the function does). Reset whenever labels change.
   */
  memo?: { fn: unknown; labels: Labels | null } | undefined;
  /** Latest event time of a record seen in this span (kept here: the span is hot in cache). */
  seenAt?: number;
  readonly instance: InstanceRecord;
}

export interface InstanceRecord {
  readonly instanceId: string;
  facts: Omit<InstanceFacts, 'instanceId' | 'role' | 'version'>;
  launchedAt: number;
  terminatedAt?: number;
  spans: Span[];
  sources: Set<ObservationSource>;
  /** Which source set role/version (see precedence above). */
  roleSource: ObservationSource;
  /** Latest event time of a record seen from it (in memory; persisted on stop). */
  lastSeenAt?: number;
  /** The source whose report ended it (`records`: the idle sweep), while terminated. */
  endedBy?: ObservationSource;
  addressKeys: string[];
}

/** What `GET /api/instances` shows. */
export interface InstanceView extends InstanceModel {
  terminatedAt?: number;
  ami?: string;
  live: boolean;
  sources: ObservationSource[];
  lastSeenAt?: number;
}

export interface FleetRegistry extends Component, ObservationSink {
  /**
   * The span of the instance named by id, private IP or (short) hostname at `atMs`. The
   * labeller's question "which instance produced a record dated `atMs`": when the answer is an
   * instance the idle sweep ended before `atMs`, that record refutes the sweep's guess and the
   * instance is live again from `atMs` (persisted, with its event; see the file comment), with
   * the role/version `record` reports (`registry.records`) when records define the instance.
   */
  lookup(key: string, atMs: number, record?: RecordMap): Span | undefined;
  /**
   * Whether the span the last `lookup` returned is the answer for that key at any time inside
   * it, until the registry changes (`onChange`), so a caller may remember it. False when it is
   * the answer for that time only (another instance shares the address for part of the span).
   */
  lastLookupHolds(): boolean;
  /**
   * Records that a record of this instance was seen (cheap; for idle detection). A time more
   * than `SEEN_SKEW_MS` past the clock counts as clock + `SEEN_SKEW_MS` (counted in
   * `fleetline_fleet_future_records_total`): agent clock skew or a bogus timestamp must not keep
   * an instance alive in the idle sweep.
   */
  noteSeen(span: Span, atMs: number): void;
  roles(): RoleModel[];
  liveInstances(): InstanceModel[];
  instances(filter?: { role?: string; live?: boolean }): InstanceView[];
  /** Instances of role+version live at any time within [fromMs, toMs). */
  members(role: string, version: string, fromMs: number, toMs: number): number;
  /** Called after every observe() that changed something; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export type LifecycleConfig = Config['lifecycle'];

export interface FleetRegistryOptions {
  store: Store;
  events: EventStore;
  /** Receives every event the tracker emits (the composition root writes `fleet_events`). */
  onEvents?: (events: LifecycleEvent[]) => void;
  /**
   * Runs inside the transaction that persists the events, so whatever it writes to the same
   * store (the spool's `fleet_events` entries) commits atomically with them. Must be
   * synchronous; a throw rolls the whole change back.
   */
  eventsInTransaction?: (db: Db, events: LifecycleEvent[]) => void;
  lifecycle?: LifecycleConfig;
  /**
   * How long a terminated instance is kept (late records, API) before it is forgotten; default
   * 30 days. An option rather than a config key for now: adding `lifecycle.history` also means
   * regenerating docs/CONFIGURATION.md.
   */
  historyMs?: number;
}

const DEFAULT_HISTORY_MS = 30 * 86_400_000;

/**
 * How far past the service's clock a record's time still counts as when it was seen (agent
 * clocks drift). Later times are capped here for idle detection: a record dated tomorrow must
 * not keep its instance alive until tomorrow.
 */
export const SEEN_SKEW_MS = 60_000;

const MIGRATIONS = [
  `CREATE TABLE registry_instances (
     instance_id TEXT PRIMARY KEY,
     facts TEXT NOT NULL,
     launched_at INTEGER NOT NULL,
     terminated_at INTEGER,
     sources TEXT NOT NULL,
     role_source TEXT NOT NULL,
     last_seen_at INTEGER
   );
   CREATE TABLE registry_spans (
     instance_id TEXT NOT NULL REFERENCES registry_instances (instance_id) ON DELETE CASCADE,
     valid_from INTEGER NOT NULL,
     valid_to INTEGER,
     role TEXT NOT NULL,
     version TEXT NOT NULL,
     slot INTEGER NOT NULL,
     PRIMARY KEY (instance_id, valid_from)
   );
   CREATE INDEX registry_spans_role ON registry_spans (role, version);
   CREATE TABLE registry_tracker (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);`,
  `CREATE TABLE registry_ended_unknown (instance_id TEXT PRIMARY KEY, ended_at INTEGER NOT NULL);`,
  `ALTER TABLE registry_instances ADD COLUMN ended_by TEXT;`,
  `ALTER TABLE registry_ended_unknown ADD COLUMN source TEXT;`,
];

/** The idle sweep reports the instances it ends as silent in their records. */
const IDLE: ObservationSource = 'records';

/** Sources that push an end as it happens (see termination_grace in the file comment). */
const PUSHED: ReadonlySet<ObservationSource> = new Set(['eventbridge', 'autoscaling']);

/** When, and by whose report, an instance no source had registered yet ended. */
interface EndedUnknown {
  at: number;
  source?: ObservationSource;
}

const AUTHORITATIVE: ReadonlySet<ObservationSource> = new Set([
  'ec2',
  'static',
  'eventbridge',
  'autoscaling',
]);

export function createFleetRegistry(
  config: RegistryConfig,
  deps: Deps,
  opts: FleetRegistryOptions,
): FleetRegistry {
  const { store, events: eventStore } = opts;
  const settings: TrackerSettings = { replaceWindowMs: parseDuration(config.replace_window) };
  const idleMs = parseDuration(opts.lifecycle?.idle_terminate ?? '0s');
  const graceMs = parseDuration(config.termination_grace);
  const historyMs = opts.historyMs ?? DEFAULT_HISTORY_MS;
  const extras = config.extra_labels;
  store.migrate('registry', MIGRATIONS);

  const observed = counter(
    deps.metrics,
    'fleetline_fleet_observations_total',
    'observations applied to the fleet registry',
    ['kind', 'source'],
  );
  const emitted = counter(
    deps.metrics,
    'fleetline_fleet_events_total',
    'lifecycle events emitted by the tracker',
    ['kind'],
  );
  const staleLive = counter(
    deps.metrics,
    'fleetline_fleet_stale_live_reports_total',
    'reports of an instance as live, ignored: a pushed termination is newer (termination_grace)',
    ['source'],
  );
  const futureRecords = counter(
    deps.metrics,
    'fleetline_fleet_future_records_total',
    'records dated further past the clock than the skew allowance (seen time capped)',
  );

  const byId = new Map<string, InstanceRecord>();
  const byAddress = new Map<string, InstanceRecord[]>();
  const byRole = new Map<string, Set<InstanceRecord>>();
  /** Facts of instances no source has given a role yet; merged once one does. */
  const roleless = new Map<string, InstanceFacts>();
  /**
   * When instances no source had registered yet were reported terminated: pushed events arrive
   * out of order, and a launch reported after its own termination must not leave the instance
   * live forever. Bounded (oldest forgotten first); mirrored in SQLite like the rest.
   */
  const endedUnknown = new Map<string, EndedUnknown>();
  const ENDED_UNKNOWN_MAX = 10_000;
  let slots = createSlotTable();
  const listeners = new Set<() => void>();
  let tracker: TrackerState = emptyTrackerState();
  let started = false;
  let startedAt = 0;
  const queued: Observation[] = [];
  let sweepTimer: NodeJS.Timeout | undefined;

  gauge(
    deps.metrics,
    'fleetline_fleet_live_instances',
    'live instances in the registry',
    [],
    function () {
      let n = 0;
      for (const r of byId.values()) if (r.terminatedAt === undefined) n++;
      this.set(n);
    },
  );

  const labelsFor = (rec: InstanceRecord, role: string, version: string, slot: number): Labels => {
    const labels: Labels = { role, version, slot: String(slot) };
    for (const name of extras) {
      const v =
        name === 'az'
          ? rec.facts.az
          : name === 'ami'
            ? rec.facts.ami
            : rec.facts.attributes?.[name];
      if (v !== undefined && v !== '') labels[name] = v;
    }
    return Object.freeze(labels);
  };

  // The instance id is one of the keys too, so a lookup is a single Map probe whatever the
  // record names its instance by.
  const addressKeysOf = (id: string, f: InstanceRecord['facts']): string[] => {
    const keys = new Set<string>([id]);
    if (f.privateIp) {
      keys.add(f.privateIp);
      keys.add(`ip-${f.privateIp.replaceAll('.', '-')}`);
    }
    if (f.privateDns) {
      const dns = f.privateDns.toLowerCase();
      keys.add(dns);
      keys.add(dns.split('.')[0]!);
    }
    return [...keys];
  };

  const reindex = (rec: InstanceRecord) => {
    for (const k of rec.addressKeys) {
      const list = byAddress.get(k);
      if (!list) continue;
      const rest = list.filter((r) => r !== rec);
      if (rest.length) byAddress.set(k, rest);
      else byAddress.delete(k);
    }
    rec.addressKeys = addressKeysOf(rec.instanceId, rec.facts);
    for (const k of rec.addressKeys) {
      const list = byAddress.get(k);
      if (list) list.push(rec);
      else byAddress.set(k, [rec]);
    }
  };

  const addToRole = (rec: InstanceRecord, role: string) => {
    let s = byRole.get(role);
    if (!s) {
      s = new Set();
      byRole.set(role, s);
    }
    s.add(rec);
  };

  const current = (rec: InstanceRecord): Span => rec.spans[rec.spans.length - 1]!;

  /**
   * The latest seen time the hot path accepts as is: clock + skew when it was last read. Only a
   * record dated past it reads the clock again, so normal traffic reads it about once per
   * `SEEN_SKEW_MS`, and the cap is never later than the clock's current reading + skew.
   */
  let seenCap = Number.NEGATIVE_INFINITY;
  const logFuture = logThrottle(60_000, () => deps.clock.now());
  const capSeen = (span: Span, atMs: number): number => {
    const now = deps.clock.now();
    seenCap = now + SEEN_SKEW_MS;
    if (atMs <= seenCap) return atMs;
    futureRecords.inc();
    if (logFuture()) {
      deps.log.warn(
        { event: 'fleet_record_from_future', instance: span.instanceId, ahead_ms: atMs - now },
        'record dated in the future; its seen time is capped at the clock for idle detection',
      );
    }
    return seenCap;
  };

  const lastSeen = (rec: InstanceRecord): number | undefined => {
    let t = rec.lastSeenAt;
    for (const s of rec.spans)
      if (s.seenAt !== undefined && (t === undefined || s.seenAt > t)) t = s.seenAt;
    return t;
  };

  /** When the instance's current life began: spans of one life follow each other without gap. */
  const lifeStart = (rec: InstanceRecord): number => {
    let i = rec.spans.length - 1;
    while (i > 0 && rec.spans[i - 1]!.to >= rec.spans[i]!.from) i--;
    return rec.spans[i]!.from;
  };

  /**
   * Hot path memo: key → the span it resolved to last. Valid while the asked time lies inside
   * the span; cleared whenever an observation changes anything, so it is never stale. It saves
   * the walk key → list → instance → spans → span, which is what costs under cache pressure.
   */
  const hot = new Map<string, Span>();
  const HOT_MAX = 200_000;
  /** See `lastLookupHolds`. */
  let lastHolds = false;

  const spanAt = (rec: InstanceRecord, t: number): Span => {
    const spans = rec.spans;
    if (spans.length === 1) return spans[0]!;
    for (let i = spans.length - 1; i >= 0; i--) if (spans[i]!.from <= t) return spans[i]!;
    return spans[0]!;
  };

  // IPs and hostnames are reused by later instances: prefer the one live at t, then the
  // latest launched before t, then the earliest. Of two live at t (the old one's end not
  // reported yet), the later launched: its address was handed out after the other's. Ties go
  // by id, so the answer never depends on the list's order (which a restart changes).
  const later = (a: InstanceRecord, b: InstanceRecord) =>
    a.launchedAt > b.launchedAt || (a.launchedAt === b.launchedAt && a.instanceId > b.instanceId);
  const byAddressAt = (list: InstanceRecord[], t: number): InstanceRecord => {
    let live: InstanceRecord | undefined;
    let best: InstanceRecord | undefined;
    for (const r of list) {
      if (r.launchedAt > t) continue;
      if (t < (r.terminatedAt ?? Number.POSITIVE_INFINITY)) {
        if (!live || later(r, live)) live = r;
      } else if (!best || later(r, best)) best = r;
    }
    return live ?? best ?? list.reduce((a, b) => (later(a, b) ? b : a));
  };
  /**
   * Whether another instance under the same address would win a lookup at some time inside
   * `span` (one launched later whose life overlaps it): the span then does not answer for the
   * address over its whole length, and must not be remembered as if it did.
   */
  const contested = (list: InstanceRecord[], rec: InstanceRecord, span: Span): boolean => {
    for (const r of list)
      if (
        r !== rec &&
        later(r, rec) &&
        r.launchedAt < span.to &&
        (r.terminatedAt ?? Number.POSITIVE_INFINITY) > span.from
      )
        return true;
    return false;
  };

  // ---- applying observations -------------------------------------------------------------

  interface Pass {
    events: LifecycleEvent[];
    dirty: Set<InstanceRecord>;
    /** endedUnknown entries this pass set or removed (undefined). */
    ended: Map<string, EndedUnknown | undefined>;
    /** Instances reported live that a newer pushed end outweighs (logged once per pass). */
    stale: string[];
    changed: boolean;
  }

  const track = (pass: Pass, change: TrackerChange) => {
    const r = step(tracker, change, settings);
    tracker = r.state;
    pass.events.push(...r.events);
    pass.changed = true;
  };

  const mergeFacts = (rec: InstanceRecord, f: InstanceFacts): boolean => {
    const next = { ...rec.facts };
    if (f.az !== undefined) next.az = f.az;
    if (f.ami !== undefined) next.ami = f.ami;
    if (f.privateIp !== undefined) next.privateIp = f.privateIp;
    if (f.privateDns !== undefined) next.privateDns = f.privateDns;
    if (f.attributes !== undefined) next.attributes = { ...rec.facts.attributes, ...f.attributes };
    if (JSON.stringify(next) === JSON.stringify(rec.facts)) return false;
    rec.facts = next;
    return true;
  };

  const openSpan = (
    rec: InstanceRecord,
    from: number,
    role: string,
    version: string,
    slot: number,
  ) => {
    const span: Span = {
      instanceId: rec.instanceId,
      from,
      to: Number.POSITIVE_INFINITY,
      role,
      version,
      slot,
      labels: {},
      instance: rec,
    };
    span.labels = labelsFor(rec, role, version, slot);
    rec.spans.push(span);
    addToRole(rec, role);
    return span;
  };

  const terminate = (
    pass: Pass,
    rec: InstanceRecord,
    at: number,
    source: ObservationSource | undefined,
    cause?: Cause,
  ) => {
    if (rec.terminatedAt !== undefined) {
      // Already ended by the idle sweep, a guess its records may refute; a source that knows
      // (EventBridge, EC2 saying terminated) confirms it is gone: no record brings it back now.
      // The end stays where it was (its event is out); only who vouches for it changes.
      if (rec.endedBy === IDLE && source !== undefined && source !== IDLE) {
        rec.endedBy = source;
        pass.dirty.add(rec);
      }
      return;
    }
    const span = current(rec);
    const end = Math.max(at, span.from);
    rec.terminatedAt = end;
    if (source !== undefined) rec.endedBy = source;
    span.to = end;
    slots.release(span.role, span.slot);
    pass.dirty.add(rec);
    track(pass, {
      kind: 'terminate',
      at: end,
      instanceId: rec.instanceId,
      role: span.role,
      version: span.version,
      slot: span.slot,
      ...(cause ? { cause } : {}),
    });
  };

  /**
   * Whether an EC2 listing that shows `rec` live lags behind the pushed end at `end`: within
   * the grace, and not started again since (a LaunchTime after the end would say so).
   */
  const staleListing = (
    rec: InstanceRecord,
    end: number,
    input: InstanceFacts,
    at: number,
    source: ObservationSource,
  ): boolean =>
    source === 'ec2' &&
    rec.endedBy !== undefined &&
    PUSHED.has(rec.endedBy) &&
    at - end < graceMs &&
    !(input.launchedAt !== undefined && input.launchedAt > end);

  const upsert = (
    pass: Pass,
    input: InstanceFacts,
    launchedAt: number,
    at: number,
    source: ObservationSource,
    seenOnly: boolean,
  ) => {
    const id = input.instanceId;
    let rec = byId.get(id);
    if (!rec) {
      const known = roleless.get(id);
      const f: InstanceFacts = known
        ? {
            ...known,
            ...input,
            attributes: { ...known.attributes, ...input.attributes },
          }
        : input;
      if (!f.role) {
        if (!seenOnly) roleless.set(id, f);
        return;
      }
      roleless.delete(id);
      const { instanceId: _i, role, version, launchedAt: knownLaunch, terminatedAt, ...facts } = f;
      // A source that waited for the role (EC2 without the role tag yet) knew the launch time;
      // the report that brought the role may not.
      const reportedFrom =
        input.launchedAt === undefined && knownLaunch !== undefined ? knownLaunch : launchedAt;
      const ended = endedUnknown.get(id);
      // Records do not bring back what another source ended, as for a known instance: one
      // dated after that end (an agent clock ahead, shutdown logs sent late) tells of the
      // life the end closed, so that life ends there rather than going on from the record.
      const from =
        seenOnly && ended !== undefined && reportedFrom > ended.at ? ended.at : reportedFrom;
      rec = {
        instanceId: id,
        facts,
        launchedAt: from,
        spans: [],
        sources: new Set([source]),
        roleSource: source,
        addressKeys: [],
      };
      byId.set(id, rec);
      reindex(rec);
      const v = version ?? 'unknown';
      const slot = slots.acquire(role, inheritableSlot(tracker, role, from, settings));
      openSpan(rec, from, role, v, slot);
      pass.dirty.add(rec);
      track(pass, { kind: 'launch', at: from, instanceId: id, role, version: v, slot });
      if (ended !== undefined) {
        endedUnknown.delete(id);
        pass.ended.set(id, undefined);
      }
      if (terminatedAt !== undefined) terminate(pass, rec, terminatedAt, source);
      else if (ended !== undefined && from <= ended.at) {
        terminate(pass, rec, ended.at, ended.source);
        // As for a known instance: a report made after the end brings it back (unless it is
        // a lagging listing, see below).
        if (!seenOnly && at > ended.at) upsert(pass, input, launchedAt, at, source, seenOnly);
      }
      return;
    }

    if (rec.terminatedAt !== undefined) {
      // A terminated instance stays terminated for late reports. A source listing it again
      // after its end (a static file entry put back, EC2 after the idle sweep) brings it back;
      // records bring it back only from the idle sweep's end, a guess their silence made.
      if (input.terminatedAt !== undefined || at <= rec.terminatedAt) return;
      if (seenOnly && rec.endedBy !== IDLE) return;
      if (staleListing(rec, rec.terminatedAt, input, at, source)) {
        staleLive.inc({ source });
        pass.stale.push(id);
        return;
      }
      const last = current(rec);
      rec.terminatedAt = undefined;
      rec.endedBy = undefined;
      rec.launchedAt = Math.min(rec.launchedAt, at);
      mergeFacts(rec, input);
      reindex(rec);
      // Records name the role/version only of an instance records defined.
      const own = !seenOnly || rec.roleSource === source;
      const role = (own ? input.role : undefined) ?? last.role;
      const version = (own ? input.version : undefined) ?? last.version;
      // Coming back, it takes its own slot again when that is still free.
      const slot = slots.acquire(
        role,
        role === last.role && slots.isFree(role, last.slot)
          ? last.slot
          : inheritableSlot(tracker, role, at, settings),
      );
      const span = openSpan(rec, at, role, version, slot);
      // Its idle clock starts over from the report that brought it back.
      if (seenOnly) span.seenAt = at;
      rec.sources.add(source);
      pass.dirty.add(rec);
      track(pass, { kind: 'launch', at, instanceId: id, role, version, slot, returning: true });
      return;
    }

    if (!rec.sources.has(source)) {
      rec.sources.add(source);
      pass.dirty.add(rec);
    }
    if (mergeFacts(rec, input)) {
      reindex(rec);
      const span = current(rec);
      span.labels = labelsFor(rec, span.role, span.version, span.slot);
      span.memo = undefined;
      pass.dirty.add(rec);
      pass.changed = true;
    }
    const mayRelabel = AUTHORITATIVE.has(source) || rec.roleSource === source;
    const span = current(rec);
    const role = input.role ?? span.role;
    const version = input.version ?? span.version;
    if (!mayRelabel || (role === span.role && version === span.version)) return;
    // A record from before the current span (buffered, delivered late) tells of the past: it
    // must not undo the change that opened the span.
    if (seenOnly && at < span.from) return;
    if (AUTHORITATIVE.has(source)) rec.roleSource = source;
    const from = Math.max(at, span.from);
    if (from === span.from) rec.spans.pop();
    else span.to = from;
    if (role === span.role) {
      openSpan(rec, from, role, version, span.slot);
      track(pass, {
        kind: 'version_change',
        at: from,
        instanceId: id,
        role,
        oldVersion: span.version,
        newVersion: version,
        slot: span.slot,
      });
    } else {
      slots.release(span.role, span.slot);
      track(pass, {
        kind: 'terminate',
        at: from,
        instanceId: id,
        role: span.role,
        version: span.version,
        slot: span.slot,
      });
      const slot = slots.acquire(role, inheritableSlot(tracker, role, from, settings));
      openSpan(rec, from, role, version, slot);
      track(pass, { kind: 'launch', at: from, instanceId: id, role, version, slot });
    }
    pass.dirty.add(rec);
  };

  /**
   * A snapshot's removals: live instances its source reported before and no longer lists end
   * at its time. Done first: an instance that left and one that arrived in the same listing are
   * most likely a replacement, and the newcomer should inherit the freed slot.
   */
  const removeUnlisted = (pass: Pass, o: Extract<Observation, { kind: 'snapshot' }>) => {
    const listed = new Set(o.instances.map((f) => f.instanceId));
    for (const rec of [...byId.values()]) {
      // An EC2 listing asked for before the instance's current life began (started again,
      // reported by EventBridge while the listing was on its way) cannot know of it: absent,
      // it says nothing about that life. The next listing does.
      if (
        rec.terminatedAt === undefined &&
        rec.sources.has(o.source) &&
        !listed.has(rec.instanceId) &&
        (o.source !== 'ec2' || lifeStart(rec) <= o.at)
      )
        terminate(pass, rec, o.at, o.source);
    }
  };

  const apply = (pass: Pass, o: Observation) => {
    observed.inc({ kind: o.kind, source: o.source });
    switch (o.kind) {
      case 'running': {
        // The launch time goes with the facts, so that it survives a wait for the role.
        const facts =
          o.launchedAt !== undefined && o.facts.launchedAt === undefined
            ? { ...o.facts, launchedAt: o.launchedAt }
            : o.facts;
        upsert(pass, facts, facts.launchedAt ?? o.at, o.at, o.source, false);
        break;
      }
      case 'seen':
        upsert(pass, o.facts, o.facts.launchedAt ?? o.at, o.at, o.source, true);
        break;
      case 'terminated': {
        const rec = byId.get(o.instanceId);
        if (rec) terminate(pass, rec, o.at, o.source, o.cause);
        else {
          roleless.delete(o.instanceId);
          const ended: EndedUnknown = { at: o.at, source: o.source };
          endedUnknown.delete(o.instanceId);
          endedUnknown.set(o.instanceId, ended);
          pass.ended.set(o.instanceId, ended);
          if (endedUnknown.size > ENDED_UNKNOWN_MAX) {
            const oldest = endedUnknown.keys().next().value!;
            endedUnknown.delete(oldest);
            pass.ended.set(oldest, undefined);
          }
        }
        break;
      }
      case 'snapshot': {
        removeUnlisted(pass, o);
        for (const f of o.instances) upsert(pass, f, f.launchedAt ?? o.at, o.at, o.source, false);
        break;
      }
      case 'deploy':
        track(pass, {
          kind: 'deploy',
          at: o.at,
          role: o.role,
          version: o.version,
          phase: o.phase,
          ...(o.text ? { text: o.text } : {}),
          ...(o.url ? { url: o.url } : {}),
        });
        break;
    }
  };

  // ---- persistence ------------------------------------------------------------------------

  const prepare = (db: Store['db']) => ({
    upsertInstance: db.prepare(
      `INSERT INTO registry_instances
         (instance_id, facts, launched_at, terminated_at, sources, role_source, last_seen_at,
          ended_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (instance_id) DO UPDATE SET facts = excluded.facts,
         launched_at = excluded.launched_at, terminated_at = excluded.terminated_at,
         sources = excluded.sources, role_source = excluded.role_source,
         last_seen_at = excluded.last_seen_at, ended_by = excluded.ended_by`,
    ),
    deleteSpans: db.prepare('DELETE FROM registry_spans WHERE instance_id = ?'),
    setEnded: db.prepare(
      `INSERT INTO registry_ended_unknown (instance_id, ended_at, source) VALUES (?, ?, ?)
       ON CONFLICT (instance_id) DO UPDATE SET ended_at = excluded.ended_at,
         source = excluded.source`,
    ),
    clearEnded: db.prepare('DELETE FROM registry_ended_unknown WHERE instance_id = ?'),
    insertSpan: db.prepare(
      `INSERT INTO registry_spans (instance_id, valid_from, valid_to, role, version, slot)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    saveTracker: db.prepare(
      `INSERT INTO registry_tracker (id, state) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state`,
    ),
  });
  let stmts: ReturnType<typeof prepare> | undefined;

  const persist = (
    dirty: Set<InstanceRecord>,
    events: LifecycleEvent[],
    trackerChanged: boolean,
    ended: Map<string, EndedUnknown | undefined>,
  ): LifecycleEvent[] => {
    const db = store.db;
    stmts ??= prepare(db);
    const { upsertInstance, deleteSpans, insertSpan, saveTracker, setEnded, clearEnded } = stmts;
    // Only events the store did not hold yet go on: a source reporting the same fact twice
    // (a CI job retrying its deploy POST) must not reach the spool or onEvents twice.
    let fresh: LifecycleEvent[] = [];
    db.transaction(() => {
      for (const rec of dirty) {
        upsertInstance.run(
          rec.instanceId,
          JSON.stringify(rec.facts),
          rec.launchedAt,
          rec.terminatedAt ?? null,
          JSON.stringify([...rec.sources]),
          rec.roleSource,
          lastSeen(rec) ?? null,
          rec.terminatedAt !== undefined ? (rec.endedBy ?? null) : null,
        );
        deleteSpans.run(rec.instanceId);
        for (const s of rec.spans)
          insertSpan.run(
            rec.instanceId,
            s.from,
            Number.isFinite(s.to) ? s.to : null,
            s.role,
            s.version,
            s.slot,
          );
      }
      for (const [id, e] of ended) {
        // Deleted first so that the table's rowid order stays the age order load() relies on.
        clearEnded.run(id);
        if (e !== undefined) setEnded.run(id, e.at, e.source ?? null);
      }
      if (trackerChanged) saveTracker.run(JSON.stringify(tracker));
      fresh = eventStore.append(events);
      if (fresh.length > 0) opts.eventsInTransaction?.(db, fresh);
    })();
    return fresh;
  };

  const load = () => {
    const db = store.db;
    const instances = db.prepare('SELECT * FROM registry_instances').all() as {
      instance_id: string;
      facts: string;
      launched_at: number;
      terminated_at: number | null;
      sources: string;
      role_source: ObservationSource;
      last_seen_at: number | null;
      ended_by: ObservationSource | null;
    }[];
    const spans = db
      .prepare('SELECT * FROM registry_spans ORDER BY instance_id, valid_from')
      .all() as {
      instance_id: string;
      valid_from: number;
      valid_to: number | null;
      role: string;
      version: string;
      slot: number;
    }[];
    for (const row of instances) {
      const rec: InstanceRecord = {
        instanceId: row.instance_id,
        facts: JSON.parse(row.facts),
        launchedAt: row.launched_at,
        spans: [],
        sources: new Set(JSON.parse(row.sources)),
        roleSource: row.role_source,
        addressKeys: [],
        ...(row.terminated_at !== null ? { terminatedAt: row.terminated_at } : {}),
        ...(row.terminated_at !== null && row.ended_by !== null ? { endedBy: row.ended_by } : {}),
        // Capped as on the hot path: a store written before the cap may hold a future time.
        ...(row.last_seen_at !== null
          ? { lastSeenAt: Math.min(row.last_seen_at, deps.clock.now() + SEEN_SKEW_MS) }
          : {}),
      };
      byId.set(rec.instanceId, rec);
      reindex(rec);
    }
    for (const s of spans) {
      const rec = byId.get(s.instance_id);
      if (!rec) continue;
      const span = openSpan(rec, s.valid_from, s.role, s.version, s.slot);
      if (s.valid_to !== null) span.to = s.valid_to;
      else if (rec.terminatedAt === undefined) slots.claim(s.role, s.slot);
    }
    const saved = db.prepare('SELECT state FROM registry_tracker WHERE id = 1').get() as
      | { state: string }
      | undefined;
    tracker = saved ? (JSON.parse(saved.state) as TrackerState) : emptyTrackerState();
    const ended = db
      .prepare('SELECT instance_id, ended_at, source FROM registry_ended_unknown ORDER BY rowid')
      .all() as { instance_id: string; ended_at: number; source: ObservationSource | null }[];
    for (const row of ended)
      endedUnknown.set(row.instance_id, {
        at: row.ended_at,
        ...(row.source !== null ? { source: row.source } : {}),
      });
  };

  /**
   * Runs a pass's persist; when it fails (its transaction rolled back: a full disk, the spool
   * refusing the fleet_events entries because it stopped), memory goes back to what SQLite
   * holds before the error goes to the source. Otherwise memory would run ahead of the store:
   * the pass's events would be lost for good (the same facts reported again change nothing in
   * memory), and a restart would answer differently from the running service.
   */
  const persistOrReload = <T>(run: () => T): T => {
    try {
      return run();
    } catch (err) {
      const seen = new Map<string, number>();
      for (const r of byId.values()) {
        const t = lastSeen(r);
        if (t !== undefined) seen.set(r.instanceId, t);
      }
      byId.clear();
      byAddress.clear();
      byRole.clear();
      endedUnknown.clear();
      hot.clear();
      slots = createSlotTable();
      load();
      // Last-seen times live in memory between stops; keep them.
      for (const [id, t] of seen) {
        const r = byId.get(id);
        if (r && (r.lastSeenAt === undefined || t > r.lastSeenAt)) r.lastSeenAt = t;
      }
      for (const l of listeners) l();
      throw err;
    }
  };

  /**
   * A record dated `atMs` came from `rec`, which the idle sweep ended before then: it is not
   * gone, it was quiet. Brings it back through `observe` (persisted, evented) as a `seen` at
   * `atMs`, capped at the clock + skew like any seen time, reporting the role/version `record`
   * says (the labeller reports them only after the lookup: the return would otherwise be recorded
   * with the old ones, then changed at the same moment). Returns whether the registry changed
   * (the caller looks again): it is live again, or the store failed and the registry was
   * reloaded. A failing store is not the record's problem: it keeps its old labels, and for a
   * second no other record retries (each failure reloads the registry).
   */
  let reviveAfter = Number.NEGATIVE_INFINITY;
  const spokeAgain = (rec: InstanceRecord, atMs: number, record?: RecordMap): boolean => {
    if (!started) return false;
    const now = deps.clock.now();
    if (now < reviveAfter) return false;
    const at = Math.min(atMs, now + SEEN_SKEW_MS);
    if (rec.terminatedAt === undefined || at <= rec.terminatedAt) return false;
    // A record already older than the idle period (a backlog flushed late) does not refute the
    // sweep: the next sweep would end it again at that record, and an agent replaying its
    // buffer would make a return and an end per sweep. It comes back once its records catch up.
    if (idleMs > 0 && now - at > idleMs) return false;
    try {
      // Refused values (recordLabels) report nothing: it comes back as it was.
      const labels = record && config.records ? recordLabels(record, config.records) : undefined;
      observe([
        { kind: 'seen', at, facts: { instanceId: rec.instanceId, ...labels }, source: IDLE },
      ]);
    } catch (err) {
      reviveAfter = now + 1000;
      deps.log.warn(
        { event: 'fleet_return_failed', instance: rec.instanceId, err: (err as Error)?.message },
        'could not bring back an instance the idle sweep ended',
      );
      return true;
    }
    deps.log.info(
      { event: 'fleet_idle_returned', instance: rec.instanceId },
      'instance ended for silence speaks again; live again',
    );
    return byId.get(rec.instanceId)?.terminatedAt === undefined;
  };

  // ---- the public face --------------------------------------------------------------------

  const lookup = (key: string, atMs: number, record?: RecordMap): Span | undefined => {
    const memo = hot.get(key);
    if (memo !== undefined && atMs >= memo.from && atMs < memo.to) {
      lastHolds = true;
      return memo;
    }
    let list = byAddress.get(key);
    if (list === undefined) {
      const lower = key.toLowerCase();
      if (lower !== key) list = byAddress.get(lower);
      if (list === undefined) return undefined;
    }
    const rec = list.length === 1 ? list[0]! : byAddressAt(list, atMs);
    const span = spanAt(rec, atMs);
    // Past the end of its last span: ended before the record was made. (Live spans end at
    // Infinity, so records of live instances never get further than the first comparison.)
    // Only a record naming it by id brings it back: addresses are handed to new instances.
    if (
      atMs >= span.to &&
      rec.endedBy === IDLE &&
      key === rec.instanceId &&
      spokeAgain(rec, atMs, record)
    )
      return lookup(key, atMs);
    lastHolds = list.length === 1 || !contested(list, rec, span);
    if (lastHolds && atMs >= span.from && atMs < span.to) {
      if (hot.size >= HOT_MAX) hot.clear();
      hot.set(key, span);
    }
    return span;
  };

  const observe = (observations: readonly Observation[]) => {
    if (!started) {
      queued.push(...observations);
      return;
    }
    const pass: Pass = {
      events: [],
      dirty: new Set(),
      ended: new Map(),
      stale: [],
      changed: false,
    };
    // Ends of live instances go first, whatever order the source reported them in: EC2 reports
    // a replacement it made between two refreshes as the successor's `running`, then the
    // predecessor's `terminated` (or its absence from the snapshot); launched first, the
    // successor took a new slot and no replace was paired. (Only live instances: a source may
    // report a past instance as running then terminated, which must stay in that order.)
    const early = new Set<Observation>();
    for (const o of observations) {
      if (o.kind === 'terminated') {
        const rec = byId.get(o.instanceId);
        if (rec !== undefined && rec.terminatedAt === undefined) {
          apply(pass, o);
          early.add(o);
        }
      } else if (o.kind === 'snapshot') removeUnlisted(pass, o);
    }
    for (const o of observations) if (!early.has(o)) apply(pass, o);
    if (pass.stale.length > 0)
      deps.log.info(
        {
          event: 'fleet_stale_live_report',
          count: pass.stale.length,
          instances: [...new Set(pass.stale)].slice(0, 10),
        },
        'EC2 still lists instances EventBridge/Auto Scaling reported terminated; kept terminated',
      );
    if (pass.ended.size > 0 && pass.dirty.size === 0 && !pass.changed) {
      persistOrReload(() => persist(pass.dirty, [], false, pass.ended));
      return;
    }
    if (pass.dirty.size === 0 && !pass.changed) return;
    hot.clear();
    const events = persistOrReload(() =>
      persist(pass.dirty, pass.events, pass.events.length > 0 || pass.changed, pass.ended),
    );
    for (const e of events) {
      emitted.inc({ kind: e.kind });
      deps.log.info(
        { event: 'fleet_lifecycle', kind: e.kind, role: e.role, id: e.id, text: e.text },
        'fleet lifecycle event',
      );
    }
    if (events.length > 0 && opts.onEvents) {
      try {
        opts.onEvents(events);
      } catch (err) {
        deps.log.error({ event: 'fleet_events_handler_failed', err }, 'onEvents handler threw');
      }
    }
    for (const l of listeners) l();
  };

  const sweepIdle = () => {
    const now = deps.clock.now();
    // Silence while the service was down is not silence: agents are still reconnecting and
    // flushing. Judge only after a whole idle period of listening.
    if (now - startedAt < idleMs) return;
    const gone: Observation[] = [];
    for (const rec of byId.values()) {
      const seen = lastSeen(rec);
      if (rec.terminatedAt !== undefined || seen === undefined) continue;
      // Silence from before its current life does not count: an instance the sweep ended and a
      // source then listed again would otherwise be ended at the next sweep, listed again, …
      if (seen < lifeStart(rec)) continue;
      if (now - seen > idleMs)
        gone.push({
          kind: 'terminated',
          at: seen,
          instanceId: rec.instanceId,
          source: 'records',
        });
    }
    if (gone.length) {
      deps.log.warn(
        { event: 'fleet_idle_terminated', count: gone.length },
        'silent instances treated as gone',
      );
      observe(gone);
    }
  };

  /**
   * Forgets instances terminated longer than `historyMs` ago, in memory and in SQLite,
   * so the registry is bounded by churn over that window rather than growing forever. Their
   * events stay in the event store.
   */
  const prune = () => {
    const cutoff = deps.clock.now() - historyMs;
    const old: InstanceRecord[] = [];
    for (const rec of byId.values())
      if (rec.terminatedAt !== undefined && rec.terminatedAt < cutoff) old.push(rec);
    if (old.length === 0) return;
    for (const rec of old) {
      byId.delete(rec.instanceId);
      for (const k of rec.addressKeys) {
        const rest = (byAddress.get(k) ?? []).filter((r) => r !== rec);
        if (rest.length) byAddress.set(k, rest);
        else byAddress.delete(k);
      }
      for (const s of rec.spans) byRole.get(s.role)?.delete(rec);
    }
    hot.clear();
    const del = store.db.prepare('DELETE FROM registry_instances WHERE instance_id = ?');
    store.db.transaction(() => {
      for (const rec of old) del.run(rec.instanceId);
    })();
    deps.log.info(
      { event: 'fleet_registry_pruned', instances: old.length },
      'terminated instances past the history window forgotten',
    );
    for (const l of listeners) l();
  };

  // Runs from a timer: an error here (SQLite failing) must not become an uncaught exception;
  // the next sweep tries again.
  const sweep = () => {
    try {
      if (idleMs > 0) sweepIdle();
      prune();
    } catch (err) {
      deps.log.warn(
        { event: 'fleet_registry_sweep_failed', err: (err as Error)?.message },
        'fleet registry sweep failed; retrying at the next one',
      );
    }
  };

  const lifecycle = component('fleet-registry', {
    start() {
      load();
      started = true;
      startedAt = deps.clock.now();
      if (queued.length) observe(queued.splice(0));
      prune();
      const every = idleMs > 0 ? Math.min(Math.max(idleMs / 4, 1000), 60_000) : 60_000;
      sweepTimer = setInterval(sweep, every);
      sweepTimer.unref();
      deps.log.info(
        { event: 'fleet_registry_loaded', instances: byId.size },
        'fleet registry loaded',
      );
    },
    stop() {
      if (sweepTimer) clearInterval(sweepTimer);
      // lastSeenAt changes in memory on the hot path; write it back once, here.
      if (store.isOpen()) {
        const update = store.db.prepare(
          'UPDATE registry_instances SET last_seen_at = ? WHERE instance_id = ?',
        );
        store.db.transaction(() => {
          for (const r of byId.values()) {
            const seen = lastSeen(r);
            if (seen !== undefined) update.run(seen, r.instanceId);
          }
        })();
      }
      started = false;
      stmts = undefined;
    },
  });

  const view = (rec: InstanceRecord): InstanceView => {
    const s = current(rec);
    return {
      instanceId: rec.instanceId,
      role: s.role,
      version: s.version,
      slot: s.slot,
      launchedAt: rec.launchedAt,
      live: rec.terminatedAt === undefined,
      sources: [...rec.sources].sort(),
      ...(rec.facts.az !== undefined ? { az: rec.facts.az } : {}),
      ...(rec.facts.ami !== undefined ? { ami: rec.facts.ami } : {}),
      ...(rec.facts.privateIp !== undefined ? { privateIp: rec.facts.privateIp } : {}),
      ...(rec.facts.privateDns !== undefined ? { privateDns: rec.facts.privateDns } : {}),
      ...(rec.facts.attributes ? { attributes: { ...rec.facts.attributes } } : {}),
      ...(rec.terminatedAt !== undefined ? { terminatedAt: rec.terminatedAt } : {}),
      ...(lastSeen(rec) !== undefined ? { lastSeenAt: lastSeen(rec) } : {}),
    };
  };

  const ordered = (list: InstanceView[]) =>
    list.sort(
      (a, b) =>
        a.role.localeCompare(b.role) ||
        Number(b.live) - Number(a.live) ||
        a.slot - b.slot ||
        a.instanceId.localeCompare(b.instanceId),
    );

  return {
    ...lifecycle,
    observe,
    lookup,
    lastLookupHolds: () => lastHolds,
    noteSeen(span, atMs) {
      const t = atMs <= seenCap ? atMs : capSeen(span, atMs);
      if (span.seenAt === undefined || t > span.seenAt) span.seenAt = t;
    },
    roles() {
      const out: RoleModel[] = [];
      for (const [role, recs] of byRole) {
        const versions = new Set<string>();
        let members = 0;
        for (const r of recs) {
          if (r.terminatedAt !== undefined) continue;
          const s = current(r);
          if (s.role !== role) continue;
          versions.add(s.version);
          members++;
        }
        if (members > 0)
          out.push({ role, versions: [...versions].sort(), members, slots: slots.used(role) });
      }
      return out.sort((a, b) => a.role.localeCompare(b.role));
    },
    liveInstances() {
      const live = [...byId.values()].filter((r) => r.terminatedAt === undefined).map(view);
      return ordered(live).map(
        ({ live: _l, sources: _s, terminatedAt: _t, lastSeenAt: _ls, ami: _a, ...m }) => m,
      );
    },
    instances(filter = {}) {
      const out: InstanceView[] = [];
      for (const rec of byId.values()) {
        const v = view(rec);
        if (filter.role !== undefined && v.role !== filter.role) continue;
        if (filter.live !== undefined && v.live !== filter.live) continue;
        out.push(v);
      }
      return ordered(out);
    },
    members(role, version, fromMs, toMs) {
      let n = 0;
      for (const rec of byRole.get(role) ?? []) {
        if (
          rec.spans.some(
            (s) => s.role === role && s.version === version && s.from < toMs && s.to > fromMs,
          )
        )
          n++;
      }
      return n;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
