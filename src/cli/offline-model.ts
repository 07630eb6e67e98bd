/**
 * Reads the generation model (roles, measurements written, live instances) and the lifecycle
 * events from the embedded store, for the commands that run beside the service
 * (`fleetline dashboards`, `fleetline inventory`). SQLite's WAL mode lets them read while the
 * service writes.
 *
 * Read only, by construction: the file is opened `readonly` (any write throws
 * SQLITE_READONLY), nothing is migrated (a store older than this version is refused with a
 * hint instead), the registry keeps every terminated instance (its start-up prune would
 * delete) and never writes last-seen times back, and there is no checkpoint on close. All
 * reads run in one transaction, so registry, catalog and events come from one snapshot, and
 * a reader never waits for the service's write lock. A data_dir the service never used gives
 * an empty model and is not created.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../core/deps.ts';
import { createEventStore } from '../fleet/event-store.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { createFleetRegistry } from '../fleet/registry.ts';
import type { GenerationModel } from '../generate/model.ts';
import { createCatalog } from '../sinks/influxdb/catalog.ts';
import { INFLUXDB_MIGRATIONS } from '../sinks/influxdb/tables.ts';
import { type Db, STORE_FILE, type Store } from '../store/sqlite.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';

export interface OfflineState {
  model: GenerationModel;
  events: LifecycleEvent[];
}

/**
 * A `Store` over a read-only connection. `migrate` only checks that the module's tables are
 * at least at the version this code reads; `isOpen` turns false once reading is done, so the
 * registry's stop (which writes last-seen times back when the store is open) writes nothing.
 */
function readOnlyStore(
  db: Db,
  path: string,
): Store & { finish(): void; version(module: string): number } {
  let reading = true;
  const versions = new Map<string, number>();
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (hasTable) {
    for (const r of db.prepare('SELECT module, version FROM schema_migrations').all() as {
      module: string;
      version: number;
    }[])
      versions.set(r.module, r.version);
  }
  return {
    name: 'store (read-only)',
    start: async () => {},
    stop: async () => {},
    path,
    get db() {
      return db;
    },
    isOpen: () => reading && db.open,
    migrate(module, migrations) {
      const have = versions.get(module) ?? 0;
      if (have < migrations.length)
        throw new Error(
          `${path}: the ${module} tables are at version ${have}, this fleetline reads version ` +
            `${migrations.length}; run \`fleetline serve\` once to upgrade the store`,
        );
      return have;
    },
    finish() {
      reading = false;
    },
    version: (module: string) => versions.get(module) ?? 0,
  } as Store & { finish(): void; version(module: string): number };
}

/**
 * Opens the store of `config.data_dir` read-only, reads what the generators need (and the
 * newest `eventLimit` lifecycle events, oldest first), and closes it.
 */
export async function readOfflineState(
  config: Readonly<Config>,
  eventLimit = 10_000,
): Promise<OfflineState> {
  const path = resolve(join(config.data_dir, STORE_FILE));
  if (!existsSync(path))
    return { model: { roles: [], measurements: [], instances: [] }, events: [] };
  const deps = {
    log: silentLogger(),
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: false }),
  };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    // One snapshot for everything below; a read transaction never takes the write lock.
    db.exec('BEGIN');
    const store = readOnlyStore(db, path);
    const events = createEventStore(store);
    const registry = createFleetRegistry(config.registry, deps, {
      store,
      events,
      // Never prune: that is the service's job, and a delete here would write.
      historyMs: Number.POSITIVE_INFINITY,
    });
    // A service without InfluxDB never creates the catalog: nothing written, no measurements
    // (what the running service reports too). Only a catalog older than this code is refused.
    const hasCatalog = store.version('influxdb') > 0;
    if (hasCatalog) store.migrate('influxdb', INFLUXDB_MIGRATIONS);
    await registry.start();
    try {
      const catalog = createCatalog(() => db);
      if (hasCatalog) catalog.load();
      const model: GenerationModel = {
        roles: registry.roles(),
        measurements: catalog.models(),
        instances: registry.liveInstances(),
      };
      // The newest `eventLimit` events (the event store pages oldest first: a long-lived fleet
      // would get only its first events mirrored), returned oldest first.
      const rows = db
        .prepare('SELECT body FROM fleet_events ORDER BY time DESC, id DESC LIMIT ?')
        .all(eventLimit) as { body: string }[];
      const newest = rows.reverse().map((r) => JSON.parse(r.body) as LifecycleEvent);
      return { model, events: newest };
    } finally {
      store.finish();
      await registry.stop();
    }
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
  }
}

export const loadOfflineModel = async (configPath?: string) =>
  (await readOfflineState(loadConfig({ file: configPath }).config)).model;

export const loadOfflineEvents = async (configPath?: string) =>
  (await readOfflineState(loadConfig({ file: configPath }).config)).events;
