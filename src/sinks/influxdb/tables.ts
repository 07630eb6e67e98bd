/**
 * The InfluxDB sink's SQLite tables (module `influxdb` in `schema_migrations`):
 *
 * - `influxdb_dead_letters`: lines the server rejected for good, with the server's message.
 *   Keyed by the line itself, so a replayed batch bumps `count` instead of duplicating rows.
 *   Bounded by `influxdb.dead_letters` (dead-letters.ts): pruned least recently refused first
 *   through the `last_at` index, whose entries end in the row id, so `ORDER BY last_at, id`
 *   walks it without a sort.
 * - `influxdb_catalog`: the measurements / tag keys / fields (with their type) written so far,
 *   up to the bounds of `influxdb.catalog` (catalog.ts) — what the dashboard generator builds
 *   panels from.
 */
export const INFLUXDB_MIGRATIONS: readonly string[] = [
  `CREATE TABLE influxdb_dead_letters (
     id INTEGER PRIMARY KEY,
     line TEXT NOT NULL UNIQUE,
     measurement TEXT NOT NULL,
     reason TEXT NOT NULL,
     first_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     count INTEGER NOT NULL
   );
   CREATE INDEX influxdb_dead_letters_last_at ON influxdb_dead_letters (last_at);
   CREATE TABLE influxdb_catalog (
     measurement TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('tag', 'field')),
     name TEXT NOT NULL,
     type TEXT,
     first_at INTEGER NOT NULL,
     PRIMARY KEY (measurement, kind, name)
   ) WITHOUT ROWID;`,
];
