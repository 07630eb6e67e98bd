/**
 * The dead-letter table: lines InfluxDB refused for good (parse error, field type conflict,
 * cardinality limit, oversized line) and entries that could not be encoded at all. Recording
 * them lets the writer move on without losing evidence; an operator can read them back
 * (`list`) and re-send after fixing the cause.
 *
 * The table is bounded (`influxdb.dead_letters`): a client that keeps sending a conflicting
 * field would otherwise fill the disk with evidence of one mistake. Beyond `maxRows` rows or
 * `maxBytes` bytes (line + reason, UTF-8), the least recently refused dead letters go first (the
 * newest is always kept), and those not refused again within `maxAgeMs` go too. Rows and bytes
 * are kept as running totals, read once at `load`, so a bound costs an index walk over only the
 * rows it deletes, never a scan per insert:
 *
 *   influxdb_dead_letters_last_at (last_at, id) ── oldest ─▶ pruned first
 *   count += 1 / bytes += size on insert; -= on every prune (DELETE … RETURNING size)
 *
 * Every pruned dead letter is counted in `fleetline_influxdb_dead_letters_pruned_total{reason}`
 * and logged (`influxdb_dead_letters_pruned`): at once, then at most once a minute with the
 * counts since the last line.
 */
import type { Deps } from '../../core/deps.ts';
import type { Db } from '../../store/sqlite.ts';
import { logThrottle } from '../../telemetry/log-throttle.ts';
import { counter, gauge } from '../../telemetry/metrics.ts';

export interface DeadLetter {
  /** Row id: with `lastAt`, the paging cursor. */
  id: number;
  line: string;
  measurement: string;
  /** The server's error message (or the encoder's reason). */
  reason: string;
  firstAt: number;
  lastAt: number;
  /** How often this exact line was refused (replays count again). */
  count: number;
}

export interface DeadLetterLimits {
  maxRows: number;
  /** Bytes of line + reason kept (the table and its unique index store the line twice). */
  maxBytes: number;
  maxAgeMs: number;
}

/** Dead letters pruned, by the bound that pruned them. */
export interface PrunedCounts {
  rows: number;
  bytes: number;
  age: number;
}

export interface DeadLetterStats {
  rows: number;
  bytes: number;
  /** Since this process loaded the table. */
  pruned: PrunedCounts;
}

/** Where a page ends: the next page lists the dead letters older than this one. */
export interface DeadLetterCursor {
  lastAt: number;
  id: number;
}

export interface DeadLetters {
  /** Reads the table's totals and applies the bounds (they may be lower than last run's). */
  load(): void;
  add(line: string, measurement: string, reason: string, now: number): void;
  /** Several lines refused with one reason, in one transaction, pruned once at the end. */
  addAll(
    lines: readonly { line: string; measurement: string }[],
    reason: string,
    now: number,
  ): void;
  /** Applies the age bound (and reports held prune counts); the writer calls it every minute. */
  prune(now: number): void;
  /** Most recently refused first; `before` continues after a page's last dead letter. */
  list(limit?: number, before?: DeadLetterCursor): DeadLetter[];
  stats(): DeadLetterStats;
}

/** Pruning is logged at once, then at most this often. */
const PRUNE_LOG_INTERVAL_MS = 60_000;
/** Oldest rows read per step while freeing bytes. */
const BYTES_STEP = 256;

const SIZE = 'length(CAST(line AS BLOB)) + length(CAST(reason AS BLOB))';

export function createDeadLetters(
  db: () => Db,
  limits: DeadLetterLimits,
  deps: Pick<Deps, 'log' | 'metrics' | 'clock'>,
): DeadLetters {
  const m = {
    pruned: counter(
      deps.metrics,
      'fleetline_influxdb_dead_letters_pruned_total',
      'dead letters deleted to keep the table within influxdb.dead_letters, by bound',
      ['reason'],
    ),
  };
  const stored = gauge(
    deps.metrics,
    'fleetline_influxdb_dead_letters_stored',
    'dead letters in the table now',
  );
  let rows = 0;
  let bytes = 0;
  const total: PrunedCounts = { rows: 0, bytes: 0, age: 0 };
  const held: PrunedCounts = { rows: 0, bytes: 0, age: 0 };
  const logPruned = logThrottle(PRUNE_LOG_INTERVAL_MS, () => deps.clock.now());

  // Statements are prepared once per connection (the store may reopen it).
  let preparedFor: Db | undefined;
  let s: ReturnType<typeof prepare> | undefined;
  const prepare = (d: Db) => ({
    find: d.prepare(`SELECT id, length(CAST(reason AS BLOB)) AS reasonBytes
                     FROM influxdb_dead_letters WHERE line = ?`),
    bump: d.prepare(`UPDATE influxdb_dead_letters SET reason = ?, last_at = ?, count = count + 1
                     WHERE id = ?`),
    insert: d.prepare(`INSERT INTO influxdb_dead_letters
                         (line, measurement, reason, first_at, last_at, count)
                       VALUES (?, ?, ?, ?, ?, 1)`),
    // `id != ?`: the dead letter just written is never pruned, even when a clock that
    // stepped back dated it before the others.
    oldest: d.prepare(`DELETE FROM influxdb_dead_letters WHERE id IN
                         (SELECT id FROM influxdb_dead_letters WHERE id != ?
                          ORDER BY last_at, id LIMIT ?)
                       RETURNING ${SIZE} AS size`),
    oldestSizes: d.prepare(`SELECT id, ${SIZE} AS size FROM influxdb_dead_letters
                            WHERE id != ? ORDER BY last_at, id LIMIT ?`),
    deleteId: d.prepare('DELETE FROM influxdb_dead_letters WHERE id = ?'),
    expired: d.prepare(`DELETE FROM influxdb_dead_letters WHERE last_at < ?
                        RETURNING ${SIZE} AS size`),
    totals: d.prepare(`SELECT count(*) AS n, coalesce(sum(${SIZE}), 0) AS b
                       FROM influxdb_dead_letters`),
    page: d.prepare(`SELECT id, line, measurement, reason, first_at AS firstAt,
                            last_at AS lastAt, count
                     FROM influxdb_dead_letters ORDER BY last_at DESC, id DESC LIMIT ?`),
    pageBefore: d.prepare(`SELECT id, line, measurement, reason, first_at AS firstAt,
                                  last_at AS lastAt, count
                           FROM influxdb_dead_letters
                           WHERE last_at <= ? AND (last_at < ? OR id < ?)
                           ORDER BY last_at DESC, id DESC LIMIT ?`),
  });
  const q = () => {
    const d = db();
    if (d !== preparedFor || !s) {
      s = prepare(d);
      preparedFor = d;
    }
    return s;
  };

  /** Stores or bumps one dead letter; returns its row id. */
  const addOne = (line: string, measurement: string, reason: string, now: number): number => {
    const st = q();
    const reasonBytes = Buffer.byteLength(reason);
    const row = st.find.get(line) as { id: number; reasonBytes: number } | undefined;
    if (row) {
      st.bump.run(reason, now, row.id);
      bytes += reasonBytes - row.reasonBytes;
      return row.id;
    }
    const id = Number(st.insert.run(line, measurement, reason, now, now).lastInsertRowid);
    rows++;
    bytes += Buffer.byteLength(line) + reasonBytes;
    return id;
  };

  const removed = (reason: keyof PrunedCounts, sizes: readonly { size: number }[]) => {
    if (sizes.length === 0) return;
    rows -= sizes.length;
    for (const r of sizes) bytes -= r.size;
    total[reason] += sizes.length;
    held[reason] += sizes.length;
    m.pruned.inc({ reason }, sizes.length);
  };

  /**
   * Deletes down to the row and byte bounds, least recently refused first, never `newest` (the
   * row id just written; -1 at load) and never the last row.
   */
  const bound = (newest: number) => {
    const st = q();
    if (rows > limits.maxRows)
      removed('rows', st.oldest.all(newest, rows - limits.maxRows) as { size: number }[]);
    while (bytes > limits.maxBytes && rows > 1) {
      const oldest = st.oldestSizes.all(newest, Math.min(BYTES_STEP, rows - 1)) as {
        id: number;
        size: number;
      }[];
      const gone: { size: number }[] = [];
      let excess = bytes - limits.maxBytes;
      for (const r of oldest) {
        if (excess <= 0) break;
        st.deleteId.run(r.id);
        gone.push(r);
        excess -= r.size;
      }
      removed('bytes', gone);
      if (gone.length === 0) break;
    }
  };

  const expire = (now: number) => {
    removed('age', q().expired.all(now - limits.maxAgeMs) as { size: number }[]);
  };

  const readTotals = () => {
    const t = q().totals.get() as { n: number; b: number };
    rows = t.n;
    bytes = t.b;
  };

  /** Runs `fn` in a transaction; if it fails, the running totals are read again. */
  const tx = (fn: () => void) => {
    try {
      db().transaction(fn)();
    } catch (err) {
      readTotals();
      throw err;
    }
  };

  const report = () => {
    stored.set(rows);
    if (held.rows + held.bytes + held.age === 0) return;
    if (!logPruned()) return;
    deps.log.warn(
      {
        event: 'influxdb_dead_letters_pruned',
        pruned: { ...held },
        rows,
        bytes,
        limits: {
          max_rows: limits.maxRows,
          max_bytes: limits.maxBytes,
          max_age_ms: limits.maxAgeMs,
        },
      },
      'dead-letter table at its bounds (influxdb.dead_letters): deleted the least recently refused lines',
    );
    held.rows = 0;
    held.bytes = 0;
    held.age = 0;
  };

  return {
    load() {
      readTotals();
      tx(() => {
        expire(deps.clock.now());
        bound(-1);
      });
      report();
    },
    add(line, measurement, reason, now) {
      tx(() => bound(addOne(line, measurement, reason, now)));
      report();
    },
    addAll(lines, reason, now) {
      tx(() => {
        let newest = -1;
        for (const l of lines) newest = addOne(l.line, l.measurement, reason, now);
        bound(newest);
      });
      report();
    },
    prune(now) {
      tx(() => expire(now));
      report();
    },
    list(limit = 1000, before) {
      const st = q();
      return (
        before
          ? st.pageBefore.all(before.lastAt, before.lastAt, before.id, limit)
          : st.page.all(limit)
      ) as DeadLetter[];
    },
    stats: () => ({ rows, bytes, pruned: { ...total } }),
  };
}
