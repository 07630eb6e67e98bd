/**
 * Durable storage of lifecycle events in the embedded SQLite store, and the paginated query
 * behind `GET /api/events`.
 *
 * Events are keyed by their content-derived id, so appending an event twice (a source
 * re-reporting the same change after a restart) stores it once. Queries order by
 * (time, id) ascending; the cursor is that pair for the last event returned, so a page is
 * stable even when new events arrive between requests.
 */
import type { Statement } from 'better-sqlite3';
import type { Store } from '../store/sqlite.ts';
import type { LifecycleEvent, LifecycleEventKind } from './lifecycle-event.ts';

export interface EventQuery {
  role?: string;
  kind?: LifecycleEventKind;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  limit: number;
  cursor?: EventCursor;
}

export interface EventCursor {
  time: number;
  id: string;
}

export interface EventPage {
  events: LifecycleEvent[];
  /** Present when more events may follow. */
  next?: EventCursor;
}

export interface EventStore {
  /**
   * Stores events (idempotent per id) and returns those it did not hold yet, in order: an event
   * already stored, or repeated within `events`, is not new. Call only while the store is open.
   */
  append(events: readonly LifecycleEvent[]): LifecycleEvent[];
  query(q: EventQuery): EventPage;
}

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
];

export function createEventStore(store: Store): EventStore {
  store.migrate('fleet-events', MIGRATIONS);
  // Prepared once per open database (the store can be stopped and started again).
  const inserts = new WeakMap<Store['db'], Statement<unknown[]>>();
  return {
    append(events) {
      const fresh: LifecycleEvent[] = [];
      if (events.length === 0) return fresh;
      let insert = inserts.get(store.db);
      if (!insert) {
        insert = store.db.prepare(
          'INSERT OR IGNORE INTO fleet_events (id, time, kind, role, body) VALUES (?, ?, ?, ?, ?)',
        );
        inserts.set(store.db, insert);
      }
      store.db.transaction(() => {
        for (const e of events)
          if (insert.run(e.id, e.time, e.kind, e.role, JSON.stringify(e)).changes > 0)
            fresh.push(e);
      })();
      return fresh;
    },
    query(q) {
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
      if (q.cursor) {
        where.push('(time > ? OR (time = ? AND id > ?))');
        args.push(q.cursor.time, q.cursor.time, q.cursor.id);
      }
      const sql = `SELECT id, time, body FROM fleet_events${
        where.length ? ` WHERE ${where.join(' AND ')}` : ''
      } ORDER BY time, id LIMIT ?`;
      const rows = store.db.prepare(sql).all(...args, q.limit + 1) as {
        id: string;
        time: number;
        body: string;
      }[];
      const page = rows.slice(0, q.limit);
      const events = page.map((r) => JSON.parse(r.body) as LifecycleEvent);
      const last = page[page.length - 1];
      return rows.length > q.limit && last
        ? { events, next: { time: last.time, id: last.id } }
        : { events };
    },
  };
}
