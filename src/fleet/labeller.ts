/**
 * The labelling stage: inputs → (this) → spool.
 *
 * For every entry: resolve which instance produced it (identity.ts), look the instance up in
 * the registry at the entry's *event time*, attach `entry.labels` (role, version, slot,
 * configured extras, then the relabel rules) and `entry.instanceId`, and report what the
 * records say about their instance to the registry (`registry.records`). Then the batch goes
 * downstream; `consume` resolves only when downstream accepted it, so an input's ack waits
 * for the spool.
 *
 * Unknown instances: entries that name an instance the registry does not know yet are held,
 * with their whole batch, for up to `registry.unknown.hold` so discovery can catch up; every
 * registry change retries them. At most `registry.unknown.max_held` entries wait at once;
 * beyond that, and when the hold expires, they get `role=unknown` (never dropped). Entries
 * with no identity at all get `role=unknown` at once. Only relabel rules drop entries.
 *
 * Labels objects are shared between entries of the same instance span (that is what makes
 * this stage cheap) and frozen: downstream stages must treat `entry.labels` as read-only.
 */
import { parseDuration } from '../config/duration.ts';
import type { RegistryConfig } from '../config/schema.ts';
import type { Consumer } from '../core/consumer.ts';
import type { Deps } from '../core/deps.ts';
import { type Batch, type Entry, entryTimeMs, type Labels, type RecordMap } from '../core/entry.ts';
import { type Component, component } from '../core/lifecycle.ts';
import { counter, gauge } from '../telemetry/metrics.ts';
import { resolveIdentity } from './identity.ts';
import type { Observation } from './observation.ts';
import type { FleetRegistry, Span } from './registry.ts';
import { createSeenReporter } from './sources/records.ts';

export interface FleetLabellerOptions {
  registry: FleetRegistry;
  /** Pure relabel function (compiled rules bound in); null drops the entry. */
  relabel: (labels: Labels) => Labels | null;
  downstream: Consumer;
}

export type FleetLabeller = Consumer & Component;

/** The labels of entries whose instance is not known. */
export const UNKNOWN_LABELS: Labels = Object.freeze({ role: 'unknown', version: 'unknown' });

interface Held {
  batch: Batch;
  /** Indexes of entries still unresolved. */
  pending: number[];
  timer: NodeJS.Timeout;
  settle: (p: Promise<void>) => void;
}

export function createFleetLabeller(
  config: RegistryConfig,
  deps: Deps,
  opts: FleetLabellerOptions,
): FleetLabeller {
  const { registry, relabel, downstream } = opts;
  const keys = config.identity_keys;
  const holdMs = parseDuration(config.unknown.hold);
  const maxHeld = config.unknown.max_held;
  const reporter = config.records ? createSeenReporter(config.records, deps) : undefined;

  const unknown = counter(
    deps.metrics,
    'fleetline_fleet_unknown_total',
    'entries whose instance was not known at once, by outcome',
    ['outcome'],
  );
  const dropped = counter(
    deps.metrics,
    'fleetline_fleet_relabel_dropped_total',
    'entries dropped by relabel rules',
  );
  const held: Held[] = [];
  let heldEntries = 0;
  gauge(
    deps.metrics,
    'fleetline_fleet_unknown_held',
    'entries waiting for discovery',
    [],
    function () {
      this.set(heldEntries);
    },
  );

  const relabelOf = (labels: Labels): Labels | null => {
    const r = relabel(labels);
    return r === null ? null : Object.freeze(r);
  };
  const unknownRelabelled = relabelOf(UNKNOWN_LABELS);
  // relabel is pure: its result is memoised on the span, so the rules run once per instance
  // span rather than once per record.
  const relabelSpan = (span: Span): Labels | null => {
    const memo = span.memo;
    if (memo !== undefined && memo.fn === relabel) return memo.labels;
    const labels = relabelOf(span.labels);
    span.memo = { fn: relabel, labels };
    return labels;
  };

  // Consecutive records mostly come from the same agent: remember the last claim's span while
  // the record's time stays inside it — when the registry says the span answers for the claim
  // over its whole length (not so while two instances share an address).
  let lastKey: string | undefined;
  let lastSpan: Span | undefined;
  const lookup = (key: string, atMs: number, record: RecordMap): Span | undefined => {
    if (key === lastKey && lastSpan !== undefined && atMs >= lastSpan.from && atMs < lastSpan.to)
      return lastSpan;
    const span = registry.lookup(key, atMs, record);
    if (span !== undefined && registry.lastLookupHolds()) {
      lastKey = key;
      lastSpan = span;
    }
    return span;
  };

  /** Entries relabel dropped, per batch; allocated only when a drop happens. */
  const drops = new WeakMap<Batch, Set<Entry>>();

  const label = (batch: Batch, e: Entry, span: Span | undefined, atMs: number) => {
    const out = span ? relabelSpan(span) : unknownRelabelled;
    if (out === null) {
      let set = drops.get(batch);
      if (!set) {
        set = new Set();
        drops.set(batch, set);
      }
      set.add(e);
      return;
    }
    e.labels = out;
    if (span) {
      e.instanceId = span.instanceId;
      registry.noteSeen(span, atMs);
    } else e.instanceId = null;
  };

  const forward = (batch: Batch): Promise<void> => {
    const gone = drops.get(batch);
    if (gone) {
      dropped.inc(gone.size);
      batch.entries = batch.entries.filter((e) => !gone.has(e));
      drops.delete(batch);
    }
    if (batch.entries.length === 0) return Promise.resolve();
    return downstream.consume(batch);
  };

  /** Tries the still-unresolved entries again; returns the indexes that remain unknown. */
  const retry = (batch: Batch, pending: number[]): number[] => {
    const rest: number[] = [];
    for (const i of pending) {
      const e = batch.entries[i]!;
      const t = entryTimeMs(e);
      const r = resolveIdentity(e, batch.origin, keys, lookup, t);
      if (typeof r === 'object' && r !== null) label(batch, e, r, t);
      else rest.push(i);
    }
    return rest;
  };

  const release = (h: Held, expired: boolean): Promise<void> => {
    const idx = held.indexOf(h);
    if (idx < 0) return Promise.resolve();
    held.splice(idx, 1);
    clearTimeout(h.timer);
    const rest = retry(h.batch, h.pending);
    heldEntries -= h.pending.length;
    const resolvedNow = h.pending.length - rest.length;
    if (resolvedNow > 0) unknown.inc({ outcome: 'resolved' }, resolvedNow);
    if (rest.length > 0) {
      unknown.inc({ outcome: expired ? 'expired' : 'released' }, rest.length);
      deps.log.info(
        { event: 'fleet_unknown_expired', entries: rest.length, input: h.batch.origin.input },
        'entries of unknown instances labelled role=unknown',
      );
      for (const i of rest) {
        const e = h.batch.entries[i]!;
        label(h.batch, e, undefined, entryTimeMs(e));
      }
    }
    const done = forward(h.batch);
    h.settle(done);
    return done;
  };

  const onRegistryChange = () => {
    lastKey = undefined;
    lastSpan = undefined;
    if (held.length === 0) return;
    // Deferred: the registry calls listeners from inside observe().
    queueMicrotask(() => {
      for (const h of [...held]) {
        h.pending = retryPendingOnly(h);
        if (h.pending.length === 0) release(h, false);
      }
    });
  };

  const retryPendingOnly = (h: Held): number[] => {
    const before = h.pending.length;
    const rest = retry(h.batch, h.pending);
    const n = before - rest.length;
    if (n > 0) {
      heldEntries -= n;
      unknown.inc({ outcome: 'resolved' }, n);
    }
    return rest;
  };

  // Subscribed from creation, not start(): consume() works before start() too.
  let unsubscribe: (() => void) | undefined = registry.onChange(onRegistryChange);
  let lastOverflowLog = Number.NEGATIVE_INFINITY;

  /** Labels what resolves; returns the indexes of entries that claim an unknown instance. */
  const labelAll = (batch: Batch, seen: Observation[] | undefined): number[] => {
    const entries = batch.entries;
    const origin = batch.origin;
    const pending: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const t = entryTimeMs(e);
      const r = resolveIdentity(e, origin, keys, lookup, t);
      if (seen && reporter && r !== null) {
        const o = reporter.report(e.record, r, t);
        if (o) seen.push(o);
      }
      if (typeof r === 'string') pending.push(i);
      else if (r === null) {
        if (seen) unknown.inc({ outcome: 'no_identity' });
        label(batch, e, undefined, t);
      } else label(batch, e, r, t);
    }
    return pending;
  };

  const consume = (batch: Batch): Promise<void> => {
    const entries = batch.entries;
    const seen: Observation[] = [];
    let pending = labelAll(batch, seen);
    if (seen.length > 0) {
      // The records changed what the registry knows (rare: once per instance and version);
      // label the batch again so every entry reflects it, not only the later ones.
      try {
        registry.observe(seen);
      } catch (err) {
        // The registry could not persist it (and is as before). The records still go on, as
        // they are labelled now; the next record of these instances reports them again.
        for (const o of seen) if (o.kind === 'seen') reporter?.forget(o.facts.instanceId);
        deps.log.warn(
          { event: 'fleet_records_observe_failed', err: (err as Error)?.message },
          'could not register instances from their records',
        );
      }
      reporter?.settle();
      drops.delete(batch);
      pending = labelAll(batch, undefined);
    }
    if (pending.length === 0) return forward(batch);

    if (holdMs === 0 || heldEntries + pending.length > maxHeld) {
      unknown.inc({ outcome: 'overflow' }, pending.length);
      const now = deps.clock.now();
      if (now - lastOverflowLog > 10_000) {
        lastOverflowLog = now;
        deps.log.warn(
          { event: 'fleet_unknown_overflow', entries: pending.length, held: heldEntries, maxHeld },
          'unknown-instance hold is full; labelling role=unknown without waiting',
        );
      }
      for (const i of pending) label(batch, entries[i]!, undefined, entryTimeMs(entries[i]!));
      return forward(batch);
    }

    unknown.inc({ outcome: 'held' }, pending.length);
    heldEntries += pending.length;
    return new Promise<void>((resolve, reject) => {
      const h: Held = {
        batch,
        pending,
        timer: setTimeout(() => release(h, true), holdMs),
        settle: (p) => p.then(resolve, reject),
      };
      held.push(h);
    });
  };

  const lifecycle = component('fleet-labeller', {
    start() {
      unsubscribe ??= registry.onChange(onRegistryChange);
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      // Flush: nothing held may be lost on shutdown; it goes downstream as role=unknown.
      await Promise.allSettled([...held].map((h) => release(h, true)));
    },
  });

  return { ...lifecycle, consume };
}
