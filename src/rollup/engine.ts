/**
 * The rollup engine: a spool consumer that keeps per-interval role aggregates in the embedded
 * store and emits them as `fleet_rollup` / `fleet_members` points through the spool.
 *
 *   spool ──deliver(batches)──▶ aggregateEntries (pure, outside the transaction)
 *                                   │ deltas per (role, version, measurement, interval)
 *                                   ▼
 *          (db) => { merge deltas into rollup_interval; re-emit late intervals }
 *                 runs inside the spool's transaction that advances our progress
 *
 *   timer (deps.clock) ──tick()──▶ one transaction: emit every interval that ended more than
 *          `grace` ago + members points, mark them emitted, advance closed_through; prune
 *
 * Exactly-once on the state: a delivery's effect and the spool's progress commit together, so
 * after a crash the spool replays exactly the deliveries whose effect was lost. Emission and
 * "emitted" commit together too, so an interval's point is appended to the spool once per
 * change (a crash before the commit just emits it at the next tick).
 *
 * Late entries: an entry for an interval that is already emitted updates the state and the
 * interval is re-emitted in the same transaction — once per delivery however many of its
 * entries were late. An entry older than `retention` is not rolled up (its interval may have
 * been pruned, and re-emitting a partial state would overwrite the full point in InfluxDB); it
 * is counted, and still reaches InfluxDB as an event point through the other consumer. So is an
 * entry more than `retention` ahead of the clock (its row would outlive every prune).
 */
import { randomInt } from 'node:crypto';
import { parseDuration } from '../config/duration.ts';
import type { RollupConfig } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import type { Entry } from '../core/entry.ts';
import { RetryableError } from '../core/errors.ts';
import { type Component, component } from '../core/lifecycle.ts';
import type { Spool, SpoolConsumer, SpooledBatch } from '../spool/contract.ts';
import type { Db, Store } from '../store/sqlite.ts';
import { logThrottle } from '../telemetry/log-throttle.ts';
import { counter, gauge } from '../telemetry/metrics.ts';
import {
  type Aggregated,
  aggregateEntries,
  type IntervalDelta,
  type IntervalKey,
  keyString,
} from './aggregate.ts';
import {
  decodeState,
  emptyState,
  encodeState,
  type IntervalState,
  mergeState,
  rollupFields,
  takeFoldedBuckets,
} from './interval-state.ts';
import { DERIVED_ORIGIN, membersPoint, rollupPoint } from './points.ts';
import { migrateRollupTable, type RollupTable, rollupTable } from './rollup-table.ts';

export interface RoleVersion {
  role: string;
  version: string;
}

export interface RollupEngineOptions {
  store: Store;
  spool: Pick<Spool, 'appendInTransaction'>;
  /** Instances of (role, version) live at any time in [fromMs, toMs). Called inside a transaction: keep it synchronous and cheap. */
  members: (role: string, version: string, fromMs: number, toMs: number) => number;
  /** Every (role, version) the registry currently knows; each gets a members point per interval. */
  roleVersions: () => RoleVersion[];
}

export interface RollupQuery {
  role?: string;
  version?: string;
  /** Interval starts from `since` (inclusive) to `until` (exclusive), epoch ms. */
  since: number;
  until: number;
  /** Default 10,000 rows; at most 10,001 (so a caller can detect truncation at the cap). */
  limit?: number;
}

/**
 * The rows of a query, oldest first. `budgetExhausted`: decoding stopped at
 * MAX_QUERY_BUCKETS sketch buckets, so more rows may have matched than returned.
 */
export type RollupRows = RollupRow[] & { budgetExhausted?: boolean };

export interface RollupRow extends IntervalKey {
  /** The `fleet_rollup` fields of the interval as it stands now (integers as numbers). */
  fields: Record<string, number>;
  /** Whether the interval's point has been handed to the spool. */
  emitted: boolean;
}

export interface RollupEngine extends SpoolConsumer, Component {
  /**
   * Emits every interval that has closed, and prunes past retention. The engine's timer calls
   * it; tests driving a fake clock may call it directly. Returns the intervals emitted.
   */
  tick(): number;
  query(q: RollupQuery): RollupRows;
}

export const MAX_QUERY_ROWS = 10_000;
/**
 * Sketch buckets one query decodes at most. Decoding costs about the buckets (~50–100 ns
 * each); a typical interval's field holds 200–400, a sprayed one up to 2,048 (MAX_BUCKETS).
 * 4M lets 10,000 typical one-field rows through and stops ~1,950 sprayed ones, well under a
 * second of event loop either way instead of several.
 */
export const MAX_QUERY_BUCKETS = 4_000_000;

interface Cached {
  rev: number;
  startMs: number;
  state: IntervalState;
}

export function createRollupEngine(
  config: RollupConfig,
  deps: Deps,
  opts: RollupEngineOptions,
): RollupEngine {
  const intervalMs = parseDuration(config.interval);
  if (intervalMs <= 0) throw new Error(`rollup.interval must be positive, got ${config.interval}`);
  const graceMs = parseDuration(config.grace);
  const retentionMs = parseDuration(config.retention);
  const latenessMs = parseDuration(config.lateness);
  // Pruning deletes intervals starting before now − retention: a retention that does not
  // outlast an interval's end + grace (+ the lateness in which late entries are still welcome)
  // can delete an interval before it is emitted, and refuses entries the rollup should count.
  if (retentionMs <= intervalMs + graceMs + latenessMs)
    throw new Error(
      `rollup.retention (${config.retention}) must be longer than rollup.interval + rollup.grace + rollup.lateness (${config.interval} + ${config.grace} + ${config.lateness})`,
    );
  const numericFields = [...config.numeric_fields];
  // Members history is only filled in for this long after a gap (e.g. the service was down);
  // older gaps keep only the intervals that have events. Whole intervals: the backfill walks
  // down from an interval start, and a lateness of, say, 90 s over 1 m intervals must not put
  // members points (and their [from, to) lookups) half-way into an interval.
  const membersBackfillMs = Math.max(1, Math.floor(latenessMs / intervalMs)) * intervalMs;
  const tickMs = Math.min(1000, Math.max(50, Math.floor(intervalMs / 5)));
  const pruneEveryMs = Math.min(3_600_000, Math.max(intervalMs, Math.floor(retentionMs / 10)));

  const log = deps.log.child({ component: 'rollup' });
  const emitted = counter(
    deps.metrics,
    'fleetline_rollup_intervals_emitted_total',
    'rollup intervals whose fleet_rollup point was emitted on close',
  );
  const reemitted = counter(
    deps.metrics,
    'fleetline_rollup_late_reemits_total',
    'already emitted rollup intervals emitted again because late entries changed them',
  );
  const aggregatedTotal = counter(
    deps.metrics,
    'fleetline_rollup_entries_aggregated_total',
    'entries folded into rollup intervals',
  );
  const expiredTotal = counter(
    deps.metrics,
    'fleetline_rollup_entries_expired_total',
    'entries older than rollup.retention, not rolled up',
  );
  const futureTotal = counter(
    deps.metrics,
    'fleetline_rollup_entries_future_total',
    'entries more than rollup.retention ahead of the clock, not rolled up',
  );
  const emitFailures = counter(
    deps.metrics,
    'fleetline_rollup_emit_failures_total',
    'rollup emission transactions that failed (retried at the next tick)',
  );
  const pruned = counter(
    deps.metrics,
    'fleetline_rollup_intervals_pruned_total',
    'rollup intervals deleted from the embedded store after rollup.retention',
  );
  const foldedTotal = counter(
    deps.metrics,
    'fleetline_rollup_sketch_buckets_folded_total',
    'quantile sketch buckets folded into a higher one to keep a field of an interval within 2,048 (its lowest quantiles lose accuracy)',
  );

  const logFolds = logThrottle(60_000, () => deps.clock.now());
  let foldedSinceLog = 0;

  migrateRollupTable(opts.store);
  const cache = new Map<string, Cached>();
  gauge(
    deps.metrics,
    'fleetline_rollup_cached_intervals',
    'rollup interval states kept decoded in memory',
    [],
    function collect() {
      this.set(cache.size);
    },
  );
  let table: RollupTable | undefined;
  let closedThrough: number | undefined;
  /**
   * The latest interval start pruning deleted (persisted; see RollupTable.prunedThrough for
   * why it is capped by the rows' last write). An interval at or before it may have
   * had a point, so it is never rebuilt from later entries alone — even when the clock has
   * stepped back since. Not the prune's cut-off: after a glitch far ahead and back, intervals
   * that never had a row must still count.
   */
  let prunedThrough = Number.NEGATIVE_INFINITY;
  let lastPrune = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;

  /** Statements for the store's current database (a reopened store gets fresh ones). */
  const tbl = (): RollupTable => {
    const db = opts.store.db;
    if (table?.db !== db) {
      table = rollupTable(db);
      closedThrough = table.closedThrough();
      prunedThrough = table.prunedThrough() ?? Number.NEGATIVE_INFINITY;
      cache.clear();
    }
    return table;
  };

  const currentState = (t: RollupTable, k: IntervalKey, ks: string): IntervalState | undefined => {
    const rev = t.rev(k.role, k.version, k.measurement, k.startMs);
    if (rev === undefined) return undefined;
    const hit = cache.get(ks);
    if (hit && hit.rev === rev) return hit.state;
    const text = t.state(k.role, k.version, k.measurement, k.startMs)!;
    return decodeState(text);
  };

  const apply = (db: Db, deltas: IntervalDelta[], entries: number): void => {
    const t = tbl();
    if (t.db !== db)
      throw new Error('rollup: the spool transaction runs on a different database than the store');
    const now = deps.clock.now();
    const late: Entry[] = [];
    const touched: [string, Cached][] = [];
    let entriesApplied = entries;
    let folded = 0;
    for (const d of deltas) {
      if (d.startMs <= prunedThrough) {
        // Pruned after deliver() checked (a tick in between, or a reopened store).
        entriesApplied -= d.state.events;
        expiredTotal.inc(d.state.events);
        continue;
      }
      const ks = keyString(d);
      // Drop the cache slot before mutating: if anything below throws, or the spool rolls the
      // transaction back, the next reader finds no slot (or a rev the row does not have) and
      // decodes the row instead of trusting a state that never committed.
      const prev = currentState(t, d, ks);
      cache.delete(ks);
      const state = mergeState(prev ?? emptyState(), d.state);
      folded += takeFoldedBuckets(state);
      const rev = randomInt(0, 2 ** 47);
      t.upsert(d.role, d.version, d.measurement, d.startMs, encodeState(state), rev, now);
      if (closedThrough !== undefined && d.startMs < closedThrough) {
        late.push(rollupPoint(d, state));
        t.markEmitted(d.role, d.version, d.measurement, d.startMs, now);
      }
      touched.push([ks, { rev, startMs: d.startMs, state }]);
    }
    if (late.length > 0)
      opts.spool.appendInTransaction(db, {
        entries: late,
        origin: DERIVED_ORIGIN,
        receivedAt: now,
      });
    for (const [ks, c] of touched) if (cacheable(c.startMs, now)) cache.set(ks, c);
    aggregatedTotal.inc(entriesApplied);
    if (folded > 0) {
      foldedTotal.inc(folded);
      foldedSinceLog += folded;
      // A hostile value stream folds on every delivery: one line a minute says so.
      if (logFolds()) {
        log.warn(
          { event: 'rollup_sketch_folded', buckets: foldedSinceLog },
          'rollup sketches reached 2,048 buckets; their lowest buckets were folded (low quantiles over-estimate)',
        );
        foldedSinceLog = 0;
      }
    }
    if (late.length > 0) {
      reemitted.inc(late.length);
      log.debug({ event: 'rollup_late_reemit', intervals: late.length }, 'late entries re-emitted');
    }
  };

  const emitDue = (): number => {
    const t = tbl();
    const now = deps.clock.now();
    const target = Math.floor((now - graceMs) / intervalMs) * intervalMs;
    if (closedThrough !== undefined && target < closedThrough) {
      // The clock is behind what was closed: it stepped back, or it had jumped ahead and was
      // corrected. Waiting for it to catch up would, for as long as the jump was, write no
      // members points and re-emit every interval at each delivery (all would count as late).
      // Reopen instead: intervals from `target` on are unemitted again (closed_through still
      // means "everything before it is emitted"), so they are emitted, once, when they close.
      const was = closedThrough;
      let reopened = 0;
      t.db.transaction(() => {
        reopened = t.reopenFrom(target);
        t.setClosedThrough(target);
      })();
      closedThrough = target;
      log.warn(
        { event: 'rollup_clock_behind', closedThrough: was, now, reopened },
        'the clock is behind the last closed rollup interval; reopened the intervals after it',
      );
      return 0;
    }
    if (closedThrough !== undefined && target === closedThrough) return 0;
    const prevClosed = closedThrough;
    let n = 0;
    t.db.transaction(() => {
      const rows = t.unemittedBefore(target);
      const points: Entry[] = [];
      const byStart = new Map<number, Map<string, RoleVersion>>();
      for (const r of rows) {
        const key: IntervalKey = {
          role: r.role,
          version: r.version,
          measurement: r.measurement,
          startMs: r.start_ms,
        };
        points.push(rollupPoint(key, decodeState(r.state)));
        t.markEmitted(r.role, r.version, r.measurement, r.start_ms, now);
        rolesAt(byStart, r.start_ms).set(`${r.role}\u0000${r.version}`, r);
      }
      // closed_through is an interval start unless rollup.interval changed since it was stored.
      const after =
        prevClosed === undefined ? target - intervalMs : alignUp(prevClosed, intervalMs);
      const from = Math.max(after, target - membersBackfillMs);
      for (let s = from; s < target; s += intervalMs) rolesAt(byStart, s);
      const known = opts.roleVersions();
      for (const [s, rvs] of [...byStart].sort((a, b) => a[0] - b[0])) {
        for (const rv of known) rvs.set(`${rv.role}\u0000${rv.version}`, rv);
        const ordered = [...rvs.values()].sort(
          (a, b) => cmp(a.role, b.role) || cmp(a.version, b.version),
        );
        for (const rv of ordered)
          points.push(
            membersPoint(
              rv.role,
              rv.version,
              s,
              opts.members(rv.role, rv.version, s, s + intervalMs),
            ),
          );
      }
      if (points.length > 0)
        opts.spool.appendInTransaction(t.db, {
          entries: points,
          origin: DERIVED_ORIGIN,
          receivedAt: now,
        });
      t.setClosedThrough(target);
      n = rows.length;
    })();
    closedThrough = target;
    emitted.inc(n);
    return n;
  };

  /**
   * Only the intervals entries are still arriving for are worth keeping decoded: the last
   * `lateness` and the current and next interval. An interval further ahead (an agent whose
   * clock is off, a hostile timestamp) would otherwise stay in memory until the clock reached
   * it, one new slot per interval, for good.
   */
  const cacheable = (startMs: number, now: number): boolean =>
    startMs >= now - latenessMs - intervalMs && startMs <= now + intervalMs;

  /** Once per interval (also while the clock is behind closed_through): drop the rest. */
  let evictedAt = Number.NaN;
  const evictCache = (): void => {
    const now = deps.clock.now();
    const at = Math.floor(now / intervalMs);
    if (at === evictedAt) return;
    evictedAt = at;
    for (const [ks, c] of cache) if (!cacheable(c.startMs, now)) cache.delete(ks);
  };

  const pruneDue = (): void => {
    const now = deps.clock.now();
    if (now - lastPrune < pruneEveryMs) return;
    lastPrune = now;
    const t = tbl();
    const removed = t.prune(now - retentionMs);
    prunedThrough = t.prunedThrough() ?? Number.NEGATIVE_INFINITY;
    if (removed > 0) {
      pruned.inc(removed);
      log.info({ event: 'rollup_pruned', intervals: removed }, 'old rollup intervals pruned');
    }
  };

  const tick = (): number => {
    if (!opts.store.isOpen()) return 0;
    try {
      evictCache();
      const n = emitDue();
      pruneDue();
      return n;
    } catch (err) {
      // Nothing is lost either way: the intervals stay unemitted in the table until a tick
      // succeeds. A retryable cause (the spool is stopping) is expected at shutdown.
      emitFailures.inc();
      const line = { event: 'rollup_emit_failed', err };
      const msg = 'rollup emission failed; the intervals are emitted at a later tick';
      if (err instanceof RetryableError) log.warn(line, msg);
      else log.error(line, msg);
      return 0;
    }
  };

  const lifecycle = component('rollup', {
    start() {
      tbl();
      timer = setInterval(tick, tickMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      // Flush: emit what is due now. Open intervals stay in the table and close after restart.
      tick();
    },
  });

  return {
    ...lifecycle,
    name: 'rollup',
    async deliver(batches: readonly SpooledBatch[]) {
      const agg: Aggregated = { deltas: new Map(), aggregated: 0 };
      for (const b of batches)
        aggregateEntries(b.batch.entries, { intervalMs, numericFields }, agg);
      // `start < now − retention` is exactly what pruning deletes (and what it deleted while
      // the clock was ahead of now stays refused through `prunedThrough`).
      const now = deps.clock.now();
      const cutoff = now - retentionMs;
      // Symmetrically, an interval more than retention ahead is garbage time (a broken agent
      // clock, a hostile timestamp): its row would sit unemitted and unpruned until the clock
      // got there, one row per such interval, without bound.
      const horizon = now + retentionMs;
      const deltas: IntervalDelta[] = [];
      let expired = 0;
      let future = 0;
      for (const d of agg.deltas.values()) {
        if (d.startMs < cutoff || d.startMs <= prunedThrough) expired += d.state.events;
        else if (d.startMs > horizon) future += d.state.events;
        else deltas.push(d);
      }
      if (future > 0) {
        futureTotal.inc(future);
        log.warn(
          { event: 'rollup_entries_future', entries: future, retention: config.retention },
          'entries more than rollup.retention ahead of the clock were not rolled up',
        );
      }
      if (expired > 0) {
        expiredTotal.inc(expired);
        log.warn(
          { event: 'rollup_entries_expired', entries: expired, retention: config.retention },
          'entries older than rollup.retention were not rolled up',
        );
      }
      if (deltas.length === 0) return undefined;
      const entries = agg.aggregated - expired - future;
      return (db: Db) => apply(db, deltas, entries);
    },
    tick,
    query(q) {
      // One row above the cap so a caller can ask for cap + 1 and tell that more matched.
      const limit = Math.min(
        Math.max(1, Math.trunc(q.limit ?? MAX_QUERY_ROWS)),
        MAX_QUERY_ROWS + 1,
      );
      const out: RollupRows = [];
      let buckets = 0;
      for (const r of tbl().query({ ...q, limit })) {
        if (buckets >= MAX_QUERY_BUCKETS) {
          out.budgetExhausted = true;
          break;
        }
        const state = decodeState(r.state);
        // The buckets decoded: a row stored before the bound holds more than it keeps, and
        // decode folded the rest (`folded`), having paid for every one of them.
        for (const sk of Object.values(state.numeric)) buckets += sk.buckets() + sk.folded;
        const fields: Record<string, number> = {};
        for (const [k, v] of Object.entries(rollupFields(state))) fields[k] = Number(v);
        out.push({
          role: r.role,
          version: r.version,
          measurement: r.measurement,
          startMs: r.start_ms,
          fields,
          emitted: r.emitted_at !== null,
        });
      }
      return out;
    },
  };
}

function rolesAt(
  byStart: Map<number, Map<string, RoleVersion>>,
  s: number,
): Map<string, RoleVersion> {
  let m = byStart.get(s);
  if (!m) {
    m = new Map();
    byStart.set(s, m);
  }
  return m;
}

function alignUp(ms: number, intervalMs: number): number {
  return Math.ceil(ms / intervalMs) * intervalMs;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
