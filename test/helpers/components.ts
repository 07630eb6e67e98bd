/**
 * Every long-lived component type, built with a minimal config, for the shared lifecycle
 * contract test (test/core/lifecycle.test.ts). Add new components here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { Component } from '../../src/core/lifecycle.ts';
import { createEventStore } from '../../src/fleet/event-store.ts';
import { createFleetLabeller } from '../../src/fleet/labeller.ts';
import { createFleetRegistry } from '../../src/fleet/registry.ts';
import { createEc2Source } from '../../src/fleet/sources/ec2-source.ts';
import { createStaticFileSource } from '../../src/fleet/sources/static-file.ts';
import { createDashboardRegenerator } from '../../src/generate/dashboard-regenerator.ts';
import { createForwardServer } from '../../src/ingest/forward/server.ts';
import { createRollupEngine } from '../../src/rollup/engine.ts';
import { createHttpServer } from '../../src/server/http.ts';
import { parseSimulateArgs } from '../../src/simulate/cli.ts';
import { createSimulator } from '../../src/simulate/simulator.ts';
import { createInfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import { createSpool } from '../../src/spool/spool.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { testDeps } from './deps.ts';
import { recordingSink } from './recording-sink.ts';

export interface ComponentCase {
  name: string;
  /** Builds a fresh component (and whatever it needs, already started). */
  make(): Promise<Component>;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fleetline-lc-'));
}

async function openStore(): Promise<Store> {
  const store = createStore(tempDir());
  await store.start();
  return store;
}

const config = (doc: Record<string, unknown> = {}) =>
  parseConfig({ forward: { port: 0 }, http: { port: 0 }, ...doc }).config;

export const COMPONENT_CASES: ComponentCase[] = [
  { name: 'store', make: async () => createStore(tempDir()) },
  {
    name: 'http server',
    make: async () => createHttpServer(config().http, testDeps(), { readiness: [] }),
  },
  {
    name: 'forward server',
    make: async () => createForwardServer(config().forward, testDeps(), recordingSink()),
  },
  { name: 'spool', make: async () => createSpool(config().spool, testDeps(), await openStore()) },
  {
    name: 'fleet registry',
    make: async () => {
      const store = await openStore();
      return createFleetRegistry(config().registry, testDeps(), {
        store,
        events: createEventStore(store),
      });
    },
  },
  {
    name: 'fleet labeller',
    make: async () => {
      const store = await openStore();
      const registry = createFleetRegistry(config().registry, testDeps(), {
        store,
        events: createEventStore(store),
      });
      await registry.start();
      return createFleetLabeller(config().registry, testDeps(), {
        registry,
        relabel: (l) => l,
        downstream: recordingSink(),
      });
    },
  },
  {
    name: 'influxdb writer',
    make: async () =>
      createInfluxWriter(
        config({ influxdb: { url: 'http://127.0.0.1:9', create_database: false } }).influxdb!,
        config().schema,
        testDeps(),
        { store: await openStore() },
      ),
  },
  {
    name: 'rollup engine',
    make: async () => {
      const store = await openStore();
      const spool = createSpool(config().spool, testDeps(), store);
      return createRollupEngine(config().rollup, testDeps(), {
        store,
        spool,
        members: () => 0,
        roleVersions: () => [],
      });
    },
  },
  {
    name: 'ec2 source',
    make: async () =>
      createEc2Source(
        // An endpoint nothing listens on: the source must still start and stop cleanly.
        config({
          registry: {
            ec2: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', refresh_interval: '1h' },
          },
        }).registry.ec2!,
        testDeps(),
        { observe: () => {} },
      ),
  },
  {
    name: 'static file source',
    make: async () => {
      const file = join(tempDir(), 'fleet.yaml');
      writeFileSync(file, 'instances: []\n');
      return createStaticFileSource({ path: file, reload: '1s' }, testDeps(), {
        observe: () => {},
      });
    },
  },
  {
    name: 'dashboard regenerator',
    make: async () =>
      createDashboardRegenerator(
        config({ grafana: { out_dir: join(tempDir(), 'dashboards') } }),
        testDeps(),
        {
          model: () => ({ roles: [], measurements: [], instances: [] }),
        },
      ),
  },
  {
    name: 'simulator',
    make: async () =>
      createSimulator(
        parseSimulateArgs([
          '--forward=127.0.0.1:9',
          '--roles=web:1',
          '--lifecycle=records',
          '--rate=0',
        ]),
        testDeps(),
      ),
  },
];
