/**
 * The composition root of `fleetline serve`: builds every component from the validated config
 * and wires the pipeline. This is the only place that knows which stage feeds which.
 *
 *   inputs (forward, http) → fleet labelling → spool ─┬→ InfluxDB writer
 *                                                     ├→ rollups
 *                                                     └→ embedded event store
 */
import type { Config } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import type { Component } from '../core/lifecycle.ts';
import { createHttpServer, type HttpServer } from '../server/http.ts';
import type { ReadinessCheck } from '../server/readiness.ts';
import { pingInfluxdb } from '../sinks/influxdb/ping.ts';
import { createStore, type Store } from '../store/sqlite.ts';

export interface Service {
  /** Components in start order; stopped in reverse. */
  components: Component[];
  store: Store;
  http: HttpServer;
}

export function createService(config: Readonly<Config>, deps: Deps): Service {
  const store = createStore(config.data_dir);

  const readiness: ReadinessCheck[] = [
    { name: 'store', check: () => (store.isOpen() ? undefined : 'embedded store is not open') },
  ];
  const influx = config.influxdb;
  if (influx) readiness.push({ name: 'influxdb', check: () => pingInfluxdb(influx) });

  const http = createHttpServer(config.http, deps, { readiness, routes: [] });
  return { components: [store, http], store, http };
}
