/** Builds a real registry over a real SQLite store in a temp dir, for the fleet tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { Config, RegistryConfig } from '../../src/config/schema.ts';
import type { Deps } from '../../src/core/deps.ts';
import type { Batch, Entry, Origin, RecordMap } from '../../src/core/entry.ts';
import { createEventStore, type EventStore } from '../../src/fleet/event-store.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import { createFleetRegistry, type FleetRegistry } from '../../src/fleet/registry.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';

export function registryConfig(registry: Record<string, unknown> = {}): RegistryConfig {
  return parseConfig({ registry }).config.registry;
}

export function lifecycleConfig(lifecycle: Record<string, unknown> = {}): Config['lifecycle'] {
  return parseConfig({ lifecycle }).config.lifecycle;
}

export interface Fleet {
  dir: string;
  deps: Deps;
  store: Store;
  events: EventStore;
  registry: FleetRegistry;
  /** Everything handed to onEvents, in order. */
  emitted: LifecycleEvent[];
  stop(): Promise<void>;
}

export const tempDir = () => mkdtempSync(join(tmpdir(), 'fleetline-fleet-'));

export async function openFleet(
  opts: {
    dir?: string;
    config?: RegistryConfig;
    deps?: Deps;
    lifecycle?: Config['lifecycle'];
    historyMs?: number;
  } = {},
): Promise<Fleet> {
  const dir = opts.dir ?? tempDir();
  const deps = opts.deps ?? testDeps();
  const store = createStore(dir);
  const events = createEventStore(store);
  const emitted: LifecycleEvent[] = [];
  const registry = createFleetRegistry(opts.config ?? registryConfig(), deps, {
    store,
    events,
    onEvents: (e) => emitted.push(...e),
    ...(opts.lifecycle ? { lifecycle: opts.lifecycle } : {}),
    ...(opts.historyMs !== undefined ? { historyMs: opts.historyMs } : {}),
  });
  await store.start();
  await registry.start();
  return {
    dir,
    deps,
    store,
    events,
    registry,
    emitted,
    async stop() {
      await registry.stop();
      await store.stop();
    },
  };
}

export function entry(record: RecordMap, atMs: number, extra: Partial<Entry> = {}): Entry {
  return {
    tag: 'app.log',
    sec: Math.floor(atMs / 1000),
    nsec: (atMs % 1000) * 1_000_000,
    record,
    ...extra,
  };
}

export function batch(entries: Entry[], origin: Partial<Origin> = {}): Batch {
  return { entries, origin: { input: 'forward', ...origin }, receivedAt: Date.now() };
}
