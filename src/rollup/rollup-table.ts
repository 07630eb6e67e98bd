/**
 * The rollup's tables in the embedded store: the persisted state of every interval (the source
 * of truth; the engine's in-memory cache only saves decoding) and how far emission has got.
 *
 *   rollup_interval  PK (role, version, measurement, start_ms)   WITHOUT ROWID
 *     state       TEXT     encodeState(): counts + base64 sketches
 *     rev         INTEGER  random per write: lets the cache tell whether it still matches
 *     emitted_at  INTEGER  ms when its fleet_rollup point was last handed to the spool; NULL = not yet
 *     updated_at  INTEGER
 *   index rollup_interval_start (start_ms)      emission and pruning walk by time
 *
 *   rollup_meta  key → value   'closed_through': every interval starting before it is emitted
 *                              'pruned_through': the latest interval start pruning deleted
 */
import type { Db, Store } from '../store/sqlite.ts';

export const ROLLUP_MIGRATIONS: readonly string[] = [
  `CREATE TABLE rollup_interval (
     role TEXT NOT NULL,
     version TEXT NOT NULL,
     measurement TEXT NOT NULL,
     start_ms INTEGER NOT NULL,
     state TEXT NOT NULL,
     rev INTEGER NOT NULL,
     emitted_at INTEGER,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (role, version, measurement, start_ms)
   ) WITHOUT ROWID;
   CREATE INDEX rollup_interval_start ON rollup_interval (start_ms);
   CREATE TABLE rollup_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
];

export interface IntervalRow {
  role: string;
  version: string;
  measurement: string;
  start_ms: number;
  state: string;
  emitted_at: number | null;
}

/** Prepared statements bound to one open database. */
export interface RollupTable {
  readonly db: Db;
  rev(role: string, version: string, measurement: string, startMs: number): number | undefined;
  state(role: string, version: string, measurement: string, startMs: number): string | undefined;
  upsert(
    role: string,
    version: string,
    measurement: string,
    startMs: number,
    state: string,
    rev: number,
    now: number,
  ): void;
  markEmitted(
    role: string,
    version: string,
    measurement: string,
    startMs: number,
    now: number,
  ): void;
  /** Rows not yet emitted whose interval starts before `beforeMs`. */
  unemittedBefore(beforeMs: number): IntervalRow[];
  closedThrough(): number | undefined;
  setClosedThrough(ms: number): void;
  /** Marks every interval starting at or after `fromMs` not emitted; returns how many. */
  reopenFrom(fromMs: number): number;
  /**
   * The latest interval start pruning ever deleted (any key), but no later than the last write
   * to the deleted rows; undefined before the first prune.
   */
  prunedThrough(): number | undefined;
  /** Deletes intervals starting before `beforeMs`, noting the latest start deleted; returns how many. */
  prune(beforeMs: number): number;
  query(q: {
    role?: string;
    version?: string;
    since: number;
    until: number;
    limit: number;
  }): IterableIterator<IntervalRow>;
}

export function migrateRollupTable(store: Store): void {
  store.migrate('rollup', ROLLUP_MIGRATIONS);
}

export function rollupTable(db: Db): RollupTable {
  const key = 'role = ? AND version = ? AND measurement = ? AND start_ms = ?';
  const selRev = db.prepare(`SELECT rev FROM rollup_interval WHERE ${key}`).pluck();
  const selState = db.prepare(`SELECT state FROM rollup_interval WHERE ${key}`).pluck();
  const upsert = db.prepare(
    `INSERT INTO rollup_interval (role, version, measurement, start_ms, state, rev, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (role, version, measurement, start_ms)
     DO UPDATE SET state = excluded.state, rev = excluded.rev, updated_at = excluded.updated_at`,
  );
  const mark = db.prepare(`UPDATE rollup_interval SET emitted_at = ? WHERE ${key}`);
  const unemitted = db.prepare(
    `SELECT role, version, measurement, start_ms, state, emitted_at FROM rollup_interval
     WHERE start_ms < ? AND emitted_at IS NULL ORDER BY start_ms, role, version, measurement`,
  );
  const selMeta = db.prepare(`SELECT value FROM rollup_meta WHERE key = 'closed_through'`).pluck();
  const setMeta = db.prepare(
    `INSERT INTO rollup_meta (key, value) VALUES ('closed_through', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );
  const selPruned = db
    .prepare(`SELECT value FROM rollup_meta WHERE key = 'pruned_through'`)
    .pluck();
  const setPruned = db.prepare(
    `INSERT INTO rollup_meta (key, value) VALUES ('pruned_through', ?)
     ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
  );
  const lastDoomed = db.prepare(
    'SELECT max(start_ms) AS start, max(updated_at) AS updated FROM rollup_interval WHERE start_ms < ?',
  );
  const reopen = db.prepare(
    'UPDATE rollup_interval SET emitted_at = NULL WHERE start_ms >= ? AND emitted_at IS NOT NULL',
  );
  const prune = db.prepare('DELETE FROM rollup_interval WHERE start_ms < ?');
  const pruneAndNote = db.transaction((before: number): number => {
    const last = lastDoomed.get(before) as { start: number | null; updated: number | null };
    if (last.start === null || last.updated === null) return 0;
    // No later than the last write to any of them either: rows an agent wrote ahead of the
    // clock were written at a time the clock knew, so a prune run while the clock was far
    // ahead does not mark the agent's future (and with it every key's present) as pruned.
    setPruned.run(Math.min(last.start, last.updated));
    return prune.run(before).changes;
  });
  const queries = new Map<string, ReturnType<Db['prepare']>>();
  return {
    db,
    rev: (r, v, m, s) => selRev.get(r, v, m, s) as number | undefined,
    state: (r, v, m, s) => selState.get(r, v, m, s) as string | undefined,
    upsert: (r, v, m, s, state, rev, now) => {
      upsert.run(r, v, m, s, state, rev, now);
    },
    markEmitted: (r, v, m, s, now) => {
      mark.run(now, r, v, m, s);
    },
    unemittedBefore: (before) => unemitted.all(before) as IntervalRow[],
    closedThrough: () => selMeta.get() as number | undefined,
    setClosedThrough: (ms) => {
      setMeta.run(ms);
    },
    reopenFrom: (from) => reopen.run(from).changes,
    prunedThrough: () => selPruned.get() as number | undefined,
    prune: (before) => pruneAndNote(before),
    query(q) {
      const shape = `${q.role === undefined ? '' : 'r'}${q.version === undefined ? '' : 'v'}`;
      let stmt = queries.get(shape);
      if (!stmt) {
        stmt = db.prepare(
          `SELECT role, version, measurement, start_ms, state, emitted_at FROM rollup_interval
           WHERE start_ms >= @since AND start_ms < @until
           ${q.role === undefined ? '' : 'AND role = @role'}
           ${q.version === undefined ? '' : 'AND version = @version'}
           ORDER BY start_ms, role, version, measurement LIMIT @limit`,
        );
        queries.set(shape, stmt);
      }
      const params: Record<string, string | number> = {
        since: q.since,
        until: q.until,
        limit: q.limit,
      };
      if (q.role !== undefined) params.role = q.role;
      if (q.version !== undefined) params.version = q.version;
      // Rows one at a time: a caller that stops early (the query budget) reads no more state.
      return stmt.iterate(params) as IterableIterator<IntervalRow>;
    },
  };
}
