/**
 * The dead-letter table: lines InfluxDB refused for good (parse error, field type conflict,
 * cardinality limit, oversized line) and entries that could not be encoded at all. Recording
 * them lets the writer move on without losing evidence; an operator can read them back
 * (`list`) and re-send after fixing the cause.
 */
import type { Db } from '../../store/sqlite.ts';

export interface DeadLetter {
  line: string;
  measurement: string;
  /** The server's error message (or the encoder's reason). */
  reason: string;
  firstAt: number;
  lastAt: number;
  /** How often this exact line was refused (replays count again). */
  count: number;
}

export interface DeadLetters {
  add(line: string, measurement: string, reason: string, now: number): void;
  list(limit?: number): DeadLetter[];
}

export function createDeadLetters(db: () => Db): DeadLetters {
  return {
    add(line, measurement, reason, now) {
      db()
        .prepare(
          `INSERT INTO influxdb_dead_letters (line, measurement, reason, first_at, last_at, count)
           VALUES (?, ?, ?, ?, ?, 1)
           ON CONFLICT (line) DO UPDATE SET
             reason = excluded.reason, last_at = excluded.last_at, count = count + 1`,
        )
        .run(line, measurement, reason, now, now);
    },
    list(limit = 1000) {
      const rows = db()
        .prepare(
          `SELECT line, measurement, reason, first_at AS firstAt, last_at AS lastAt, count
           FROM influxdb_dead_letters ORDER BY last_at DESC, id DESC LIMIT ?`,
        )
        .all(limit) as DeadLetter[];
      return rows;
    },
  };
}
