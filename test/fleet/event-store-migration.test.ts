/**
 * event store › migration: a store written before the insertion sequence keeps all its events,
 * numbered in the order the old API listed them (time, id), and new events follow them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/fleet/event-store.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { tempDir } from './fleet-harness.ts';

/** The events table as fleetline created it before the sequence (migration 1, verbatim). */
const V1 = `CREATE TABLE fleet_events (
     id TEXT PRIMARY KEY,
     time INTEGER NOT NULL,
     kind TEXT NOT NULL,
     role TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX fleet_events_time ON fleet_events (time, id);
   CREATE INDEX fleet_events_role_time ON fleet_events (role, time, id);`;

const ev = (id: string, time: number, role = 'web'): LifecycleEvent => ({
  id,
  kind: 'launch',
  time,
  role,
  text: id,
  instanceId: `i-${id}`,
});

const open: Store[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
});

async function oldStore(events: LifecycleEvent[]): Promise<string> {
  const dir = tempDir();
  const store = createStore(dir);
  await store.start();
  expect(store.migrate('fleet-events', [V1])).toBe(1);
  const insert = store.db.prepare(
    'INSERT INTO fleet_events (id, time, kind, role, body) VALUES (?, ?, ?, ?, ?)',
  );
  for (const e of events) insert.run(e.id, e.time, e.kind, e.role, JSON.stringify(e));
  await store.stop();
  return dir;
}

describe('event store migration', () => {
  it('keeps every event of an old store and numbers them by (time, id)', async () => {
    // Inserted out of time order, as late events would have been.
    const old = [ev('c', 30), ev('a', 10), ev('b2', 20), ev('b1', 20, 'api')];
    const dir = await oldStore(old);
    const store = createStore(dir);
    const events = createEventStore(store);
    await store.start();
    open.push(store);
    const page = events.query({ limit: 10 });
    expect(page.events).toEqual([ev('a', 10), ev('b1', 20, 'api'), ev('b2', 20), ev('c', 30)]);
    expect(page.seqs).toEqual([1, 2, 3, 4]);
    const version = store.db
      .prepare("SELECT version FROM schema_migrations WHERE module = 'fleet-events'")
      .get() as { version: number };
    expect(version.version).toBe(2);
    // Still idempotent per id, and a new event follows the old ones whatever its time.
    expect(events.append([ev('a', 10), ev('z', 5)]).map((e) => e.id)).toEqual(['z']);
    const next = events.query({ limit: 10, after: page.follow });
    expect(next.events.map((e) => e.id)).toEqual(['z']);
    expect(next.seqs).toEqual([5]);
    expect(events.query({ limit: 10, role: 'api' }).events.map((e) => e.id)).toEqual(['b1']);
  });

  it('migrates an empty old store, and a second open changes nothing', async () => {
    const dir = await oldStore([]);
    const first = createStore(dir);
    const a = createEventStore(first);
    await first.start();
    a.append([ev('a', 10)]);
    const at = a.query({ limit: 10 }).follow;
    await first.stop();
    const second = createStore(dir);
    const b = createEventStore(second);
    await second.start();
    open.push(second);
    expect(b.query({ limit: 10 }).follow).toEqual(at);
    expect(b.query({ limit: 10 }).events).toEqual([ev('a', 10)]);
    expect(b.query({ limit: 10 }).seqs).toEqual([1]);
  });
});
