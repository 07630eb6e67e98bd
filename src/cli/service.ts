/**
 * The composition root of `fleetline serve`: builds every component from the validated config
 * and wires the pipeline. This is the only place that knows which stage feeds which.
 *
 *   forward / http inputs → fleet labeller → spool ─┬→ InfluxDB writer (when configured)
 *                                                   └→ rollup engine ──▶ spool (fleet_rollup,
 *   EC2 / static / records / EventBridge / deploys → registry ──▶ spool (fleet_events)  members)
 */
import type { FastifyPluginAsync } from 'fastify';
import { deadLetterRoutes } from '../api/dead-letters.ts';
import { fleetApiRoutes } from '../api/fleet-routes.ts';
import { rollupApiRoutes } from '../api/rollups.ts';
import type { Config } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import type { Component } from '../core/lifecycle.ts';
import { lifecycleEventsBatch } from '../fleet/event-entry.ts';
import { createEventStore, type EventStore } from '../fleet/event-store.ts';
import { createFleetLabeller, type FleetLabeller } from '../fleet/labeller.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { createFleetRegistry, type FleetRegistry } from '../fleet/registry.ts';
import { createEc2Source } from '../fleet/sources/ec2-source.ts';
import { createStaticFileSource } from '../fleet/sources/static-file.ts';
import { createAnnotationMirror } from '../generate/annotation-mirror.ts';
import { createDashboardRegenerator } from '../generate/dashboard-regenerator.ts';
import { inventoryRoutes } from '../generate/inventory-routes.ts';
import type { GenerationModel } from '../generate/model.ts';
import { createForwardServer, type ForwardServer } from '../ingest/forward/server.ts';
import { fleetEventRoutes } from '../ingest/http/fleet-event-routes.ts';
import { fluentdRoutes } from '../ingest/http/fluentd-routes.ts';
import { influxWriteRoutes } from '../ingest/http/influx-write-routes.ts';
import { relabel } from '../relabel/relabel.ts';
import { compileRules } from '../relabel/rules.ts';
import { createRollupEngine, type RollupEngine } from '../rollup/engine.ts';
import { createHttpServer, type HttpServer } from '../server/http.ts';
import type { ReadinessCheck } from '../server/readiness.ts';
import { pingInfluxdb } from '../sinks/influxdb/ping.ts';
import { createInfluxWriter, type InfluxWriter } from '../sinks/influxdb/writer.ts';
import { createSpool, type DurableSpool } from '../spool/spool.ts';
import { createStore, type Store } from '../store/sqlite.ts';

export interface Service {
  /** Components in start order; stopped in reverse. */
  components: Component[];
  store: Store;
  spool: DurableSpool;
  registry: FleetRegistry;
  events: EventStore;
  labeller: FleetLabeller;
  rollup: RollupEngine;
  writer?: InfluxWriter;
  forward?: ForwardServer;
  http: HttpServer;
  /** What the generators (dashboards, inventory) are generated from, right now. */
  model(): GenerationModel;
}

export function createService(config: Readonly<Config>, deps: Deps): Service {
  const store = createStore(config.data_dir, { backgroundCheckpoints: true, log: deps.log });
  const spool = createSpool(config.spool, deps, store);

  // Fleet: registry (+ lifecycle events into the spool as fleet_events), relabel, labeller.
  const events = createEventStore(store);
  const annotations = createAnnotationMirror(config.grafana, deps);
  const registry = createFleetRegistry(config.registry, deps, {
    store,
    events,
    lifecycle: config.lifecycle,
    // Spooled for InfluxDB in the very transaction that persists them: an event is either in
    // both the event store and the spool, or in neither.
    eventsInTransaction: (db, evs) =>
      spool.appendInTransaction(db, lifecycleEventsBatch(evs, deps.clock.now())),
    ...(annotations ? { onEvents: (evs: LifecycleEvent[]) => annotations.mirror(evs) } : {}),
  });
  const rules = compileRules(config.relabel);
  const labeller = createFleetLabeller(config.registry, deps, {
    registry,
    relabel: (labels) => relabel(labels, rules),
    downstream: spool,
  });

  // Spool consumers: InfluxDB (when configured) and the rollup engine.
  const writer = config.influxdb
    ? createInfluxWriter(config.influxdb, config.schema, deps, { store })
    : undefined;
  if (writer) spool.register(writer);
  const rollup = createRollupEngine(config.rollup, deps, {
    store,
    spool,
    members: (role, version, from, to) => registry.members(role, version, from, to),
    roleVersions: () =>
      registry.roles().flatMap((r) => r.versions.map((version) => ({ role: r.role, version }))),
  });
  spool.register(rollup);

  const model = (): GenerationModel => ({
    roles: registry.roles(),
    measurements: writer?.catalog() ?? [],
    instances: registry.liveInstances(),
  });

  // Fleet sources.
  const sources: Component[] = [];
  if (config.registry.ec2) sources.push(createEc2Source(config.registry.ec2, deps, registry));
  if (config.registry.static)
    sources.push(createStaticFileSource(config.registry.static, deps, registry));

  // Inputs.
  const forward = config.forward.enabled
    ? createForwardServer(config.forward, deps, labeller)
    : undefined;
  const readiness: ReadinessCheck[] = [
    { name: 'store', check: () => (store.isOpen() ? undefined : 'embedded store is not open') },
  ];
  const influx = config.influxdb;
  if (influx) readiness.push({ name: 'influxdb', check: () => pingInfluxdb(influx) });
  const inputOptions = {
    downstream: labeller,
    capacity: spool,
    maxBodyBytes: config.http.max_body_bytes,
  };
  const routes: FastifyPluginAsync[] = [
    fluentdRoutes(deps, inputOptions),
    influxWriteRoutes(deps, inputOptions),
    fleetEventRoutes(deps, {
      sink: registry,
      ...(config.http.asg_role_pattern ? { asgRolePattern: config.http.asg_role_pattern } : {}),
    }),
    fleetApiRoutes(deps, { registry, events }),
    rollupApiRoutes(deps, { engine: rollup }),
    deadLetterRoutes({ ...(writer ? { writer } : {}) }),
    inventoryRoutes(deps, { model, inventory: config.inventory }),
  ];
  const http = createHttpServer(config.http, deps, { readiness, routes });

  const regenerator = config.grafana.regenerate
    ? createDashboardRegenerator(config, deps, { model })
    : undefined;

  // Start order: state first, then consumers, the spool's delivery, fleet sources, and the
  // inputs last (so nothing is accepted before it can be stored). Stopped in reverse.
  const components: Component[] = [
    store,
    registry,
    ...(writer ? [writer] : []),
    spool,
    // After the spool: on stop the rollup's final emit still has a spool to append to.
    rollup,
    labeller,
    ...sources,
    ...(forward ? [forward] : []),
    http,
    ...(regenerator ? [regenerator] : []),
  ];
  return {
    components,
    store,
    spool,
    registry,
    events,
    labeller,
    rollup,
    writer,
    forward,
    http,
    model,
  };
}
