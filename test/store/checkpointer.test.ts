import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCheckpointer } from '../../src/store/checkpointer.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { capturedLog } from '../sinks/influxdb/writer-fixture.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'fleetline-ckpt-'));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const BLOB = Buffer.alloc(200_000, 7);

describe('background WAL checkpoints', () => {
  it('copy committed pages into the database file without the committing connection', async () => {
    const d = dir();
    const store = createStore(d, {
      // A safety net far above what the test writes: any checkpoint is the worker's.
      backgroundCheckpoints: { intervalMs: 20, safetyNetPages: 1_000_000 },
    });
    await store.start();
    const db = store.db;
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000_000);
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)');
    const dbFile = join(d, 'fleetline.sqlite');
    const before = statSync(dbFile).size;
    const insert = db.prepare('INSERT INTO blobs (b) VALUES (?)');
    for (let i = 0; i < 20; i++) insert.run(BLOB);
    // 4 MB committed to the WAL; the database file grows only by a checkpoint.
    await until(() => statSync(dbFile).size > before + 3_000_000);
    await store.stop();
    // Stopped cleanly: the final checkpoint truncated the WAL, and the data is all there.
    expect(statSync(`${dbFile}-wal`, { throwIfNoEntry: false })?.size ?? 0).toBe(0);
    const again = createStore(d);
    await again.start();
    expect(again.db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(20);
    await again.stop();
  });

  it('leave the file alone when turned off, until SQLite’s own threshold', async () => {
    const d = dir();
    const store = createStore(d);
    await store.start();
    const db = store.db;
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)');
    const dbFile = join(d, 'fleetline.sqlite');
    const before = statSync(dbFile).size;
    const insert = db.prepare('INSERT INTO blobs (b) VALUES (?)');
    for (let i = 0; i < 20; i++) insert.run(BLOB);
    await new Promise((r) => setTimeout(r, 200));
    // 20 × 200 KB is ~250 pages of 16 KiB, below the default 1,000: nothing checkpointed.
    expect(statSync(dbFile).size).toBe(before);
    await store.stop();
  });

  it('falls back to the connection’s own checkpoints, and says so, when the worker fails', async () => {
    const d = dir();
    const store = createStore(d);
    await store.start();
    const { log, lines } = capturedLog();
    const ckpt = startCheckpointer(store.db, join(d, 'missing', 'no.sqlite'), {
      safetyNetPages: 50_000,
      log,
    });
    await until(() => !ckpt.running);
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(lines.some((l) => l.event === 'checkpointer_failed')).toBe(true);
    await ckpt.stop();
    await store.stop();
  });
});
