/**
 * The spool's tables and the prepared statements over them. No policy lives here: the spool
 * decides when to append, read, confirm and delete; this file only knows the layout.
 *
 *   spool_batches   seq (PK, rowid) │ first_entry_seq │ entries │ bytes │ received_at │ payload
 *                   rows are only ever appended at the top and deleted from the bottom, so the
 *                   present seqs are one contiguous range [oldest, next_seq - 1].
 *   spool_progress  consumer (PK) │ seq   — last seq this consumer confirmed
 *   spool_quarantine  seq (PK) │ first_entry_seq │ entries │ received_at │ payload │ reason │
 *                   quarantined_at — the original payload of a row that could not be decoded;
 *                   the row itself stays in place (contiguity) with an empty batch as payload
 *   spool_state     one row: next_seq │ next_entry_seq │ batches │ entries │ bytes
 *                   the running counters, updated in the same transaction as every append and
 *                   delete, so they are exact after a crash and after a rolled-back
 *                   `appendInTransaction`, and the entry sequence never restarts even when the
 *                   table has been emptied.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/sqlite.ts';

export const SPOOL_MIGRATIONS: readonly string[] = [
  `CREATE TABLE spool_batches (
     seq INTEGER PRIMARY KEY,
     first_entry_seq INTEGER NOT NULL,
     entries INTEGER NOT NULL,
     bytes INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     payload BLOB NOT NULL
   );
   CREATE TABLE spool_progress (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE spool_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     next_seq INTEGER NOT NULL,
     next_entry_seq INTEGER NOT NULL,
     batches INTEGER NOT NULL,
     entries INTEGER NOT NULL,
     bytes INTEGER NOT NULL
   );
   INSERT INTO spool_state (id, next_seq, next_entry_seq, batches, entries, bytes)
     VALUES (1, 1, 0, 0, 0, 0);`,
  `CREATE TABLE spool_quarantine (
     seq INTEGER PRIMARY KEY,
     first_entry_seq INTEGER NOT NULL,
     entries INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     payload BLOB NOT NULL,
     reason TEXT NOT NULL,
     quarantined_at INTEGER NOT NULL
   );`,
];

export interface SpoolState {
  nextSeq: number;
  nextEntrySeq: number;
  batches: number;
  entries: number;
  bytes: number;
}

/** A stored batch without its payload (read separately, and only when it is not in memory). */
export interface StoredRow {
  seq: number;
  firstEntrySeq: number;
  entries: number;
  bytes: number;
  receivedAt: number;
}

/** One batch to append: already encoded. */
export interface RowToAppend {
  entries: number;
  receivedAt: number;
  payload: Uint8Array;
}

export interface SpoolTable {
  state(): SpoolState;
  /** Appends rows in order; must run inside a transaction. Returns the seqs assigned. */
  append(rows: readonly RowToAppend[]): { firstSeq: number; lastSeq: number };
  /** Rows with seq > after, in order, up to `maxEntries`/`maxBytes` (always at least one). */
  readAfter(after: number, maxEntries: number, maxBytes: number): StoredRow[];
  /** The encoded batch of row `seq` (which must exist). */
  payload(seq: number): Uint8Array;
  progress(consumer: string): number;
  setProgress(consumer: string, seq: number): void;
  /** Deletes every row with seq <= upTo and updates the counters; returns rows deleted. */
  deleteUpTo(upTo: number): number;
  oldestReceivedAt(): number | undefined;
  /** first_entry_seq of the first row after `seq`, if any. */
  firstEntrySeqAfter(seq: number): number | undefined;
  /**
   * Keeps row `seq`'s payload in spool_quarantine with `reason` and puts `replacement` (an
   * encoded empty batch) in its place, adjusting the byte counter; must run inside a
   * transaction. False when the row is gone or was quarantined already.
   */
  quarantine(seq: number, replacement: Uint8Array, reason: string, now: number): boolean;
  /** Rows quarantined so far. */
  quarantined(): number;
}

export function createSpoolTable(db: Db): SpoolTable {
  const selectState = db.prepare(
    `SELECT next_seq AS nextSeq, next_entry_seq AS nextEntrySeq, batches, entries, bytes
       FROM spool_state WHERE id = 1`,
  );
  const insert = db.prepare(
    `INSERT INTO spool_batches (seq, first_entry_seq, entries, bytes, received_at, payload)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const addState = db.prepare(
    `UPDATE spool_state SET next_seq = next_seq + @batches, next_entry_seq = next_entry_seq + @entries,
       batches = batches + @batches, entries = entries + @entries, bytes = bytes + @bytes WHERE id = 1`,
  );
  const subState = db.prepare(
    `UPDATE spool_state SET batches = batches - @batches, entries = entries - @entries,
       bytes = bytes - @bytes WHERE id = 1`,
  );
  const readAfter = db.prepare(
    `SELECT seq, first_entry_seq AS firstEntrySeq, entries, bytes, received_at AS receivedAt
       FROM spool_batches WHERE seq > ? ORDER BY seq LIMIT ?`,
  );
  // Apart from readAfter: a payload is a blob of hundreds of KB spread over overflow pages, and
  // consumers that keep up take the batch from memory, so reading it with the row was wasted.
  const selectPayload = db
    .prepare('SELECT payload FROM spool_batches WHERE seq = ?')
    .pluck() as Statement<[number], Uint8Array | undefined>;
  const selectProgress = db.prepare('SELECT seq FROM spool_progress WHERE consumer = ?').pluck();
  const upsertProgress = db.prepare(
    `INSERT INTO spool_progress (consumer, seq) VALUES (?, ?)
     ON CONFLICT(consumer) DO UPDATE SET seq = excluded.seq`,
  );
  const sumUpTo = db.prepare(
    `SELECT count(*) AS batches, coalesce(sum(entries), 0) AS entries, coalesce(sum(bytes), 0) AS bytes
       FROM spool_batches WHERE seq <= ?`,
  );
  const deleteUpTo = db.prepare('DELETE FROM spool_batches WHERE seq <= ?');
  const oldest = db
    .prepare('SELECT received_at FROM spool_batches ORDER BY seq LIMIT 1')
    .pluck() as Statement<[], number>;
  const firstAfter = db
    .prepare('SELECT first_entry_seq FROM spool_batches WHERE seq > ? ORDER BY seq LIMIT 1')
    .pluck() as Statement<[number], number>;

  const toQuarantine = db.prepare(
    `INSERT OR IGNORE INTO spool_quarantine
       (seq, first_entry_seq, entries, received_at, payload, reason, quarantined_at)
     SELECT seq, first_entry_seq, entries, received_at, payload, ?, ? FROM spool_batches WHERE seq = ?`,
  );
  const selectBytes = db
    .prepare('SELECT bytes FROM spool_batches WHERE seq = ?')
    .pluck() as Statement<[number], number | undefined>;
  const replacePayload = db.prepare(
    'UPDATE spool_batches SET payload = ?, bytes = ? WHERE seq = ?',
  );
  const shiftBytes = db.prepare('UPDATE spool_state SET bytes = bytes + ? WHERE id = 1');
  const countQuarantined = db.prepare('SELECT count(*) FROM spool_quarantine').pluck() as Statement<
    [],
    number
  >;

  const state = () => selectState.get() as SpoolState;

  return {
    state,
    append(rows) {
      const s = state();
      let seq = s.nextSeq;
      let entrySeq = s.nextEntrySeq;
      let entries = 0;
      let bytes = 0;
      for (const r of rows) {
        insert.run(seq, entrySeq, r.entries, r.payload.byteLength, r.receivedAt, r.payload);
        seq++;
        entrySeq += r.entries;
        entries += r.entries;
        bytes += r.payload.byteLength;
      }
      addState.run({ batches: rows.length, entries, bytes });
      return { firstSeq: s.nextSeq, lastSeq: seq - 1 };
    },
    readAfter(after, maxEntries, maxBytes) {
      const out: StoredRow[] = [];
      let entries = 0;
      let bytes = 0;
      // iterate() so that a large backlog is not loaded just to take its first rows.
      for (const row of readAfter.iterate(after, maxEntries) as IterableIterator<StoredRow>) {
        if (out.length > 0 && (entries + row.entries > maxEntries || bytes + row.bytes > maxBytes))
          break;
        out.push(row);
        entries += row.entries;
        bytes += row.bytes;
      }
      return out;
    },
    payload(seq) {
      const payload = selectPayload.get(seq);
      if (payload === undefined) throw new Error(`spool row ${seq} is gone`);
      return payload;
    },
    progress(consumer) {
      return (selectProgress.get(consumer) as number | undefined) ?? 0;
    },
    setProgress(consumer, seq) {
      upsertProgress.run(consumer, seq);
    },
    deleteUpTo(upTo) {
      const sum = sumUpTo.get(upTo) as { batches: number; entries: number; bytes: number };
      if (sum.batches === 0) return 0;
      deleteUpTo.run(upTo);
      subState.run(sum);
      return sum.batches;
    },
    oldestReceivedAt: () => oldest.get(),
    firstEntrySeqAfter: (seq) => firstAfter.get(seq),
    quarantine(seq, replacement, reason, now) {
      const bytes = selectBytes.get(seq);
      if (bytes === undefined) return false;
      if (toQuarantine.run(reason, now, seq).changes === 0) return false;
      replacePayload.run(replacement, replacement.byteLength, seq);
      shiftBytes.run(replacement.byteLength - bytes);
      return true;
    },
    quarantined: () => countQuarantined.get() ?? 0,
  };
}
