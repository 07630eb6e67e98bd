/**
 * Durable storage of lifecycle events in the embedded SQLite store, and the feed behind
 * `GET /api/events`.
 *
 * Events are keyed by their content-derived id, so appending an event twice (a source
 * re-reporting the same change after a restart) stores it once. Each stored event gets the
 * next number of an insertion sequence (`seq`), and queries list events in that order: the
 * order fleetline recorded them, not their event time. That is what makes the feed one a
 * follower can trust: an event recorded late with an earlier time (an EventBridge termination
 * delivered late, a deploy posted with a past time, a replay) still comes after everything
 * recorded before it, so "everything after position X" never misses it. Paging by event time
 * did: a client whose cursor was past t=30 never saw an event for t=20 recorded afterwards.
 *
 *   fleet_events                              fleet_events_feed
 *   seq (INTEGER PK AUTOINCREMENT) ◀─ feed     feed_id: random, fixed when the table
 *   id (UNIQUE) · time · kind · role · body    is created; positions carry it so one
 *   index (time, id): since/until              from another store is refused
 *   index (role)    : role feed (≡ role, seq)
 *
 * Why a position can never skip a row: numbers are handed out by the inserting transaction
 * and SQLite has one writer at a time, so when a reader sees seq n committed, every number
 * below n is either committed too or never will be (a rolled-back insert takes its number
 * with it, and AUTOINCREMENT never hands a number out twice, even after deletes).
 */
import type { Statement } from 'better-sqlite3';
import type { Db, Store } from '../store/sqlite.ts';
import type { LifecycleEvent, LifecycleEventKind } from './lifecycle-event.ts';

/** Where a reader of the feed is: every event numbered up to `seq` has been considered. */
export interface EventPosition {
  /** The store's feed id: a position is only meaningful for the store that gave it. */
  feed: string;
  seq: number;
}

export interface EventQuery {
  role?: string;
  kind?: LifecycleEventKind;
  /** Epoch ms of the event's time, inclusive. */
  since?: number;
  /** Epoch ms of the event's time, exclusive. */
  until?: number;
  limit: number;
  /** Only events recorded after this position (a `follow` or `next` of an earlier page). */
  after?: EventPosition;
}

export interface EventPage {
  /** Matching events in recording order, at most `limit`. */
  events: LifecycleEvent[];
  /** The insertion number of each of `events` (same index), ascending. */
  seqs: number[];
  /** Present when more matching events are already recorded: the position to ask after. */
  next?: EventPosition;
  /**
   * Always present: the position after which anything recorded later will be found. Equal to
   * `next` when the page is full; otherwise the newest number this store has handed out, so a
   * filtered reader does not scan again what its filter skipped.
   */
  follow: EventPosition;
}

/** A position this store cannot resume from; the reader must start over. Never retryable. */
export class EventCursorError extends Error {
  constructor(
    readonly reason: 'other_store' | 'ahead',
    message: string,
  ) {
    super(message);
    this.name = 'EventCursorError';
  }
}

export interface EventStore {
  /**
   * Stores events (idempotent per id) and returns those it did not hold yet, in order: an event
   * already stored, or repeated within `events`, is not new. Call only while the store is open.
   */
  append(events: readonly LifecycleEvent[]): LifecycleEvent[];
  /** Reads one page in a single read transaction. Throws EventCursorError for a bad `after`. */
  query(q: EventQuery): EventPage;
}

/** Applied entries are never edited (src/store/sqlite.ts): each change is a new entry. */
const MIGRATIONS = [
  `CREATE TABLE fleet_events (
     id TEXT PRIMARY KEY,
     time INTEGER NOT NULL,
     kind TEXT NOT NULL,
     role TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX fleet_events_time ON fleet_events (time, id);
   CREATE INDEX fleet_events_role_time ON fleet_events (role, time, id);`,
  // The insertion sequence. SQLite cannot add a primary key to a table, so the table is
  // rebuilt; stored events are numbered in the (time, id) order the API listed them in before.
  `CREATE TABLE fleet_events_seq (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     time INTEGER NOT NULL,
     kind TEXT NOT NULL,
     role TEXT NOT NULL,
     body TEXT NOT NULL
   );
   INSERT INTO fleet_events_seq (id, time, kind, role, body)
     SELECT id, time, kind, role, body FROM fleet_events ORDER BY time, id;
   DROP TABLE fleet_events;
   ALTER TABLE fleet_events_seq RENAME TO fleet_events;
   CREATE INDEX fleet_events_time ON fleet_events (time, id);
   CREATE INDEX fleet_events_role ON fleet_events (role);
   CREATE TABLE fleet_events_feed (feed_id TEXT NOT NULL);
   INSERT INTO fleet_events_feed (feed_id) VALUES (lower(hex(randomblob(8))));`,
];

interface Prepared {
  insert: Statement<unknown[]>;
  newest: Statement<[], { seq: number | null }>;
  feed: string;
}

export function createEventStore(store: Store): EventStore {
  store.migrate('fleet-events', MIGRATIONS);
  // Prepared once per open database (the store can be stopped and started again).
  const prepared = new WeakMap<Db, Prepared>();
  const prepare = (db: Db): Prepared => {
    let p = prepared.get(db);
    if (!p) {
      const row = db.prepare('SELECT feed_id FROM fleet_events_feed').get() as {
        feed_id: string;
      };
      p = {
        // Not `INSERT OR IGNORE ... VALUES`: with AUTOINCREMENT that spends a number on every
        // ignored duplicate, and sources re-report events after each restart.
        insert: db.prepare(
          `INSERT INTO fleet_events (id, time, kind, role, body)
           SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM fleet_events WHERE id = ?)`,
        ),
        newest: db.prepare('SELECT max(seq) AS seq FROM fleet_events') as Statement<
          [],
          { seq: number | null }
        >,
        feed: row.feed_id,
      };
      prepared.set(db, p);
    }
    return p;
  };

  return {
    append(events) {
      const fresh: LifecycleEvent[] = [];
      if (events.length === 0) return fresh;
      const { insert } = prepare(store.db);
      store.db.transaction(() => {
        for (const e of events)
          if (insert.run(e.id, e.time, e.kind, e.role, JSON.stringify(e), e.id).changes > 0)
            fresh.push(e);
      })();
      return fresh;
    },
    query(q) {
      const db = store.db;
      const { newest, feed } = prepare(db);
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.role !== undefined) {
        where.push('role = ?');
        args.push(q.role);
      }
      if (q.kind !== undefined) {
        where.push('kind = ?');
        args.push(q.kind);
      }
      if (q.since !== undefined) {
        where.push('time >= ?');
        args.push(q.since);
      }
      if (q.until !== undefined) {
        where.push('time < ?');
        args.push(q.until);
      }
      const after = q.after?.seq ?? 0;
      if (q.after) {
        if (q.after.feed !== feed)
          throw new EventCursorError(
            'other_store',
            'cursor is from another event store (the data directory was replaced or the cursor came from another fleetline); start again without cursor',
          );
        where.push('seq > ?');
        args.push(after);
      }
      const sql = `SELECT seq, body FROM fleet_events${
        where.length ? ` WHERE ${where.join(' AND ')}` : ''
      } ORDER BY seq LIMIT ?`;
      // One read transaction: the newest number and the rows come from the same snapshot, so
      // `follow` never claims a number whose row this page did not consider.
      return db.transaction((): EventPage => {
        const top = newest.get()?.seq ?? 0;
        if (after > top)
          throw new EventCursorError(
            'ahead',
            `cursor is ahead of this store (position ${after}, newest event ${top}): the store was restored or replaced; start again without cursor`,
          );
        const rows = db.prepare(sql).all(...args, q.limit + 1) as { seq: number; body: string }[];
        const page = rows.slice(0, q.limit);
        const events = page.map((r) => JSON.parse(r.body) as LifecycleEvent);
        const seqs = page.map((r) => r.seq);
        if (rows.length > q.limit) {
          const next = { feed, seq: seqs[seqs.length - 1]! };
          return { events, seqs, next, follow: next };
        }
        return { events, seqs, follow: { feed, seq: top } };
      })();
    },
  };
}
