/**
 * Reads the generation model (roles, measurements written, live instances) and the lifecycle
 * events from the embedded store, for the commands that run beside the service
 * (`fleetline dashboards`, `fleetline inventory`). SQLite's WAL mode lets them read while the
 * service writes.
 */
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../core/deps.ts';
import { createEventStore } from '../fleet/event-store.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { createFleetRegistry } from '../fleet/registry.ts';
import type { GenerationModel } from '../generate/model.ts';
import { createCatalog } from '../sinks/influxdb/catalog.ts';
import { INFLUXDB_MIGRATIONS } from '../sinks/influxdb/tables.ts';
import { createStore } from '../store/sqlite.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';

export interface OfflineState {
  model: GenerationModel;
  events: LifecycleEvent[];
}

/** Opens the store of `config.data_dir`, reads what the generators need, and closes it. */
export async function readOfflineState(
  config: Readonly<Config>,
  eventLimit = 10_000,
): Promise<OfflineState> {
  const deps = {
    log: silentLogger(),
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: false }),
  };
  const store = createStore(config.data_dir);
  await store.start();
  try {
    const events = createEventStore(store);
    const registry = createFleetRegistry(config.registry, deps, { store, events });
    await registry.start();
    store.migrate('influxdb', INFLUXDB_MIGRATIONS);
    const catalog = createCatalog(() => store.db);
    catalog.load();
    const model: GenerationModel = {
      roles: registry.roles(),
      measurements: catalog.models(),
      instances: registry.liveInstances(),
    };
    const page = events.query({ limit: eventLimit });
    await registry.stop();
    return { model, events: page.events };
  } finally {
    await store.stop();
  }
}

export const loadOfflineModel = async (configPath?: string) =>
  (await readOfflineState(loadConfig({ file: configPath }).config)).model;

export const loadOfflineEvents = async (configPath?: string) =>
  (await readOfflineState(loadConfig({ file: configPath }).config)).events;
