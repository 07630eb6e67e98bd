import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/sqlite.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'fleetline-store-'));

describe('store', () => {
  it('creates the file under data_dir in WAL mode', async () => {
    const d = join(dir(), 'nested', 'data');
    const store = createStore(d);
    await store.start();
    expect(existsSync(join(d, 'fleetline.sqlite'))).toBe(true);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.isOpen()).toBe(true);
    await store.stop();
    expect(store.isOpen()).toBe(false);
    expect(() => store.db).toThrow(/not open/);
  });

  it('creates a new file with 16 KiB pages and opens an existing 4 KiB-page file unchanged', async () => {
    const d = dir();
    const store = createStore(d);
    await store.start();
    expect(store.db.pragma('page_size', { simple: true })).toBe(16384);
    await store.stop();

    const old = dir();
    const legacy = new Database(join(old, 'fleetline.sqlite'));
    legacy.pragma('journal_mode = WAL');
    legacy.exec('CREATE TABLE kept (x INTEGER)');
    legacy.prepare('INSERT INTO kept (x) VALUES (42)').run();
    legacy.close();
    const reopened = createStore(old);
    await reopened.start();
    expect(reopened.db.pragma('page_size', { simple: true })).toBe(4096);
    expect(reopened.db.prepare('SELECT x FROM kept').pluck().get()).toBe(42);
    await reopened.stop();
  });

  it("applies each module's migrations once, in order, and only the new ones later", async () => {
    const d = dir();
    const v1 = ['CREATE TABLE a (x INTEGER)'];
    const v2 = [...v1, 'ALTER TABLE a ADD COLUMN y TEXT'];
    const s1 = createStore(d);
    await s1.start();
    expect(s1.migrate('mod', v1)).toBe(1);
    expect(s1.migrate('mod', v1)).toBe(1);
    expect(s1.migrate('other', ['CREATE TABLE b (z INTEGER)'])).toBe(1);
    s1.db.prepare('INSERT INTO a (x) VALUES (1)').run();
    await s1.stop();

    const s2 = createStore(d);
    await s2.start();
    expect(s2.migrate('mod', v2)).toBe(2);
    expect(s2.db.prepare('SELECT x, y FROM a').all()).toEqual([{ x: 1, y: null }]);
    await s2.stop();
  });

  it('rolls back a failing migration and leaves the version unchanged', async () => {
    const store = createStore(dir());
    await store.start();
    expect(() =>
      store.migrate('bad', ['CREATE TABLE t (a INTEGER); INSERT INTO nope VALUES (1)']),
    ).toThrow();
    expect(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").all()).toEqual([]);
    expect(store.migrate('bad', ['CREATE TABLE t (a INTEGER)'])).toBe(1);
    await store.stop();
  });

  it('queues migrations registered before start and applies them on start', async () => {
    const store = createStore(dir());
    expect(store.migrate('early', ['CREATE TABLE early (a INTEGER)'])).toBe(0);
    await store.start();
    expect(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'early'").get()).toEqual({
      name: 'early',
    });
    await store.stop();
  });
});
