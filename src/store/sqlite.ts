/**
 * The embedded store: one SQLite file under `data_dir` (better-sqlite3, WAL mode) holding the
 * registry, events, spool, rollups and dead letters.
 *
 * Migrations are versioned *per module* so stages can evolve their tables independently:
 * `store.migrate('spool', [sql_v1, sql_v2])` applies the statements whose index is above the
 * module's recorded version, each in its own transaction, and records the new version in
 * `schema_migrations`. A migration list only ever grows; never edit an applied entry.
 *
 * The store is a `Component`: `start()` opens (and creates) the file, `stop()` checkpoints the
 * WAL and closes. Everything else receives the open `Database` through `store.db`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { type Component, component } from '../core/lifecycle.ts';
import { type Checkpointer, type CheckpointerOptions, startCheckpointer } from './checkpointer.ts';

export type Db = Database.Database;

export interface Store extends Component {
  /** The open database; throws when the store is not started. */
  readonly db: Db;
  readonly path: string;
  isOpen(): boolean;
  /** Applies this module's migrations that are not applied yet. Returns the module version. */
  migrate(module: string, migrations: readonly string[]): number;
}

export const STORE_FILE = 'fleetline.sqlite';

export interface StoreOptions {
  file?: string;
  /**
   * Checkpoint the WAL in a worker thread instead of on the committing connection
   * (src/store/checkpointer.ts). The service turns it on; tools and most tests do not need it.
   */
  backgroundCheckpoints?: boolean | CheckpointerOptions;
  log?: Logger;
}

export function createStore(dataDir: string, opts: StoreOptions = {}): Store {
  const path = resolve(join(dataDir, opts.file ?? STORE_FILE));
  let db: Db | undefined;
  let checkpointer: Checkpointer | undefined;
  const pending: [string, readonly string[]][] = [];

  const migrateNow = (d: Db, module: string, migrations: readonly string[]): number => {
    const row = d.prepare('SELECT version FROM schema_migrations WHERE module = ?').get(module) as
      | { version: number }
      | undefined;
    let version = row?.version ?? 0;
    for (let i = version; i < migrations.length; i++) {
      d.transaction(() => {
        d.exec(migrations[i]!);
        d.prepare(
          `INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)
           ON CONFLICT(module) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`,
        ).run(module, i + 1, Date.now());
      })();
      version = i + 1;
    }
    return version;
  };

  const lifecycle = component('store', {
    start() {
      mkdirSync(dirname(path), { recursive: true });
      const d = new Database(path);
      // 16 KiB pages: spool payloads are blobs of hundreds of KB, and SQLite spends its
      // insert time per overflow page — 16 KiB took ~40 % less CPU per payload than the 4 KiB
      // default (docs/BENCHMARKS.md, spool-append). Only a new file takes it (the page size
      // of an existing database cannot change in WAL mode); older stores keep working as is.
      d.pragma('page_size = 16384');
      d.pragma('journal_mode = WAL');
      // NORMAL is durable against process crashes (kill -9) in WAL mode; FULL adds fsync per
      // commit for power loss; `spool.synchronous: full` switches the connection to FULL.
      d.pragma('synchronous = NORMAL');
      d.pragma('busy_timeout = 5000');
      d.pragma('foreign_keys = ON');
      d.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        module TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at INTEGER NOT NULL)`);
      db = d;
      for (const [m, list] of pending.splice(0)) migrateNow(d, m, list);
      if (opts.backgroundCheckpoints) {
        const o = opts.backgroundCheckpoints === true ? {} : opts.backgroundCheckpoints;
        checkpointer = startCheckpointer(d, path, { ...(opts.log ? { log: opts.log } : {}), ...o });
      }
    },
    async stop() {
      if (!db) return;
      const d = db;
      db = undefined;
      await checkpointer?.stop();
      checkpointer = undefined;
      try {
        d.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        d.close();
      }
    },
  });

  return {
    ...lifecycle,
    path,
    get db(): Db {
      if (!db) throw new Error(`store ${path} is not open`);
      return db;
    },
    isOpen: () => db?.open === true,
    migrate(module, migrations) {
      if (!db) {
        pending.push([module, migrations]);
        return 0;
      }
      return migrateNow(db, module, migrations);
    },
  };
}
