/**
 * `fleetline dashboards` / `inventory` read the store beside a running service: they must only
 * read — no migrations, no pruning, no last-seen write-back, no checkpoint — and must not wait
 * for the service's write lock.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readOfflineState } from '../../src/cli/offline-model.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createEventStore } from '../../src/fleet/event-store.ts';
import type { Observation } from '../../src/fleet/observation.ts';
import { createFleetRegistry } from '../../src/fleet/registry.ts';
import { createCatalog } from '../../src/sinks/influxdb/catalog.ts';
import { INFLUXDB_MIGRATIONS } from '../../src/sinks/influxdb/tables.ts';
import { createStore, STORE_FILE } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';

const DAY = 86_400_000;
const now = Date.now();
const configFor = (dir: string): Readonly<Config> => parseConfig({ data_dir: dir }).config;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A store as the service leaves it: one live instance, one terminated 40 days ago. */
async function seededStore(opts: { influxdb?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-offline-'));
  const store = createStore(dir);
  const events = createEventStore(store);
  const registry = createFleetRegistry(configFor(dir).registry, testDeps(), {
    store,
    events,
    historyMs: Number.POSITIVE_INFINITY,
  });
  await store.start();
  if (opts.influxdb !== false) store.migrate('influxdb', INFLUXDB_MIGRATIONS);
  await registry.start();
  const up = (id: string, at: number): Observation => ({
    kind: 'running',
    at,
    source: 'ec2',
    facts: { instanceId: id, role: 'web', version: '1.0', privateIp: '10.0.0.7' },
  });
  registry.observe([up('i-old', now - 50 * DAY)]);
  registry.observe([
    { kind: 'terminated', at: now - 40 * DAY, instanceId: 'i-old', source: 'ec2' },
  ]);
  registry.observe([up('i-live', now - 3_600_000)]);
  registry.noteSeen(registry.lookup('i-live', now - 60_000)!, now - 60_000);
  if (opts.influxdb !== false)
    createCatalog(() => store.db).note('app', { role: 'web' }, { msg: 'x' }, now);
  await registry.stop();
  await store.stop();
  return { dir, file: join(dir, STORE_FILE) };
}

const count = (file: string, table: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('offline model', () => {
  it('reads the registry, catalog and events without writing to the store', async () => {
    const { dir, file } = await seededStore();
    const before = sha(file);
    const mtime = statSync(file).mtimeMs;
    expect(count(file, 'registry_instances')).toBe(2);

    const { model, events } = await readOfflineState(configFor(dir));

    expect(model.roles.map((r) => [r.role, r.members, r.versions])).toEqual([['web', 1, ['1.0']]]);
    expect(model.instances.map((i) => i.instanceId)).toEqual(['i-live']);
    expect(model.measurements.map((m) => m.name)).toContain('app');
    expect(events.map((e) => e.kind)).toEqual(['launch', 'terminate', 'launch']);
    // Nothing pruned, nothing written back, the file untouched.
    expect(count(file, 'registry_instances')).toBe(2);
    expect(sha(file)).toBe(before);
    expect(statSync(file).mtimeMs).toBe(mtime);
    const wal = `${file}-wal`;
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
  });

  it('does not wait for the service while it holds the write lock', async () => {
    const { dir, file } = await seededStore();
    const service = new Database(file);
    service.pragma('journal_mode = WAL');
    service.exec('BEGIN IMMEDIATE');
    service.prepare('UPDATE registry_instances SET last_seen_at = 1').run();
    try {
      const t0 = Date.now();
      const { model } = await readOfflineState(configFor(dir));
      expect(Date.now() - t0).toBeLessThan(2000);
      // The uncommitted change is not seen; the committed state is.
      expect(model.instances.map((i) => i.instanceId)).toEqual(['i-live']);
    } finally {
      service.exec('ROLLBACK');
      service.close();
    }
  });

  it('gives an empty model for a data_dir the service never used, and creates nothing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fleetline-offline-')), 'never');
    const { model, events } = await readOfflineState(configFor(dir));
    expect(model).toEqual({ roles: [], measurements: [], instances: [] });
    expect(events).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a store whose tables are older than this version instead of migrating it', async () => {
    const { dir, file } = await seededStore();
    const db = new Database(file);
    db.prepare("UPDATE schema_migrations SET version = 0 WHERE module = 'registry'").run();
    db.close();
    const before = sha(file);
    await expect(readOfflineState(configFor(dir))).rejects.toThrow(/registry.*fleetline serve/);
    expect(sha(file)).toBe(before);
    const wal = `${file}-wal`;
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
  });

  it('returns the newest events when there are more than the limit, oldest first', async () => {
    const { dir } = await seededStore();
    const all = (await readOfflineState(configFor(dir))).events;
    expect(all).toHaveLength(3);
    const { events } = await readOfflineState(configFor(dir), 2);
    expect(events.map((e) => e.id)).toEqual(all.slice(1).map((e) => e.id));
  });

  it('reads a store of a service that runs without InfluxDB (no catalog tables)', async () => {
    const { dir } = await seededStore({ influxdb: false });
    const { model } = await readOfflineState(configFor(dir));
    expect(model.measurements).toEqual([]);
    expect(model.instances.map((i) => i.instanceId)).toEqual(['i-live']);
  });
});
