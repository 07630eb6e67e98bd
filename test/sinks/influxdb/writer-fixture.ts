/**
 * Shared set-up for the InfluxDB writer tests: a config with test-friendly retry delays, a real
 * SQLite store in a temp dir, log capture, and entry/batch builders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import type { InfluxdbConfig, SchemaConfig } from '../../../src/config/schema.ts';
import type { Deps } from '../../../src/core/deps.ts';
import type { Entry } from '../../../src/core/entry.ts';
import { INFLUXDB_MIGRATIONS } from '../../../src/sinks/influxdb/tables.ts';
import { createInfluxWriter, type InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { SpooledBatch } from '../../../src/spool/contract.ts';
import { createStore, type Store } from '../../../src/store/sqlite.ts';
import { createLogger } from '../../../src/telemetry/logger.ts';
import { testDeps } from '../../helpers/deps.ts';
import { type FakeClock, fakeClock } from '../../helpers/fake-clock.ts';
import { type InfluxV2Endpoint, startInfluxV2Endpoint } from '../../helpers/influx-v2-endpoint.ts';

export const SCHEMA: SchemaConfig = { routes: [], tag_keys: ['level', 'status', 'method'] };

export function writerConfig(over: Partial<InfluxdbConfig> & { url: string }): InfluxdbConfig {
  return {
    api: 'v1',
    database: 'fleetline',
    create_database: true,
    batch_lines: 5000,
    concurrency: 2,
    gzip: true,
    timeout: '5s',
    min_retry_delay: '50ms',
    max_retry_delay: '500ms',
    ...over,
  };
}

export async function tempStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-influx-writer-'));
  const store = createStore(dir);
  await store.start();
  return {
    store,
    cleanup: async () => {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What `useWriterTables` sets up afresh for each test. */
export interface WriterTables {
  store: Store;
  clock: FakeClock;
  /** Deps with `clock` and a logger whose JSON lines land in `logLines`. */
  deps: Deps;
  logLines: Record<string, unknown>[];
}

/** Per test of the calling suite: a temp store with the writer's tables, a fake clock, a log. */
export function useWriterTables(): WriterTables {
  const t = {} as WriterTables;
  let cleanup: () => Promise<void> = async () => {};
  beforeEach(async () => {
    ({ store: t.store, cleanup } = await tempStore());
    t.store.migrate('influxdb', INFLUXDB_MIGRATIONS);
    t.clock = fakeClock();
    const { log, lines } = capturedLog();
    t.logLines = lines;
    t.deps = testDeps({ clock: t.clock, log });
  });
  afterEach(() => cleanup());
  return t;
}

/** What `useV2Writer` sets up afresh for each test; a test assigns the writer it starts. */
export interface V2WriterHarness {
  store: Store;
  endpoint: InfluxV2Endpoint;
  /** Stopped after the test when set. */
  writer: InfluxWriter | undefined;
}

/** Per test of the calling suite: a temp store and a v2 endpoint double (org acme, bucket logs). */
export function useV2Writer(): V2WriterHarness {
  const h = {} as V2WriterHarness;
  let cleanup: () => Promise<void> = async () => {};
  beforeEach(async () => {
    ({ store: h.store, cleanup } = await tempStore());
    h.endpoint = await startInfluxV2Endpoint({ token: 'secret', org: 'acme', bucket: 'logs' });
    h.writer = undefined;
  });
  afterEach(async () => {
    await h.writer?.stop();
    await h.endpoint.close();
    await cleanup();
  });
  return h;
}

/** A pino logger whose JSON lines are collected in `lines`. */
export function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger('info', stream), lines };
}

export const LABELS = { role: 'web', version: '1.4.2', slot: '0' };

/** `n` log entries from one instance, all in the same second (fluentd's default precision). */
export function logEntries(n: number, sec = 1_700_000_000, tag = 'app.log'): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    tag,
    sec,
    nsec: 0,
    record: { msg: `request ${i}`, reqtime: i / 100, level: i % 10 === 0 ? 'error' : 'info' },
    labels: LABELS,
    instanceId: 'i-0abc',
  }));
}

export function spooledBatch(entries: Entry[], seq: number, firstEntrySeq: number): SpooledBatch {
  return {
    seq,
    firstEntrySeq,
    batch: { entries, origin: { input: 'forward' }, receivedAt: Date.now() },
  };
}

/** Resolves whether `p` settled within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((r) => setTimeout(r, ms));
  return settled;
}

/** A started writer for the v2 endpoint double started with org `acme`, bucket `logs`, token `secret`. */
export async function startV2Writer(
  url: string,
  store: Store,
  over: Partial<InfluxdbConfig> = {},
  deps: Deps = testDeps(),
): Promise<InfluxWriter> {
  const w = createInfluxWriter(
    writerConfig({ url, api: 'v2', org: 'acme', bucket: 'logs', token: 'secret', ...over }),
    SCHEMA,
    deps,
    { store },
  );
  await w.start();
  // Tests look at what the start-time bucket creation did; start() itself does not wait.
  await w.ready();
  return w;
}
