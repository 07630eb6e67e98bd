/**
 * event store › the feed: every event gets an insertion sequence number, and "everything
 * recorded after position X" neither misses an event recorded late with an earlier time nor
 * repeats one. Real SQLite in a temp dir.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEventStore,
  EventCursorError,
  type EventPosition,
  type EventQuery,
  type EventStore,
} from '../../src/fleet/event-store.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { tempDir } from './fleet-harness.ts';

const ev = (id: string, time: number, role = 'web'): LifecycleEvent => ({
  id,
  kind: 'deploy',
  time,
  role,
  text: id,
});

const open: Store[] = [];
const openStore = async (dir = tempDir()) => {
  const store = createStore(dir);
  const events = createEventStore(store);
  await store.start();
  open.push(store);
  return { dir, store, events };
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
});

/** Reads the whole feed after `from` in pages of `limit`, like a follower. */
const drain = (
  events: EventStore,
  from: EventPosition | undefined,
  q: Partial<EventQuery> = {},
) => {
  const got: string[] = [];
  let at = from;
  for (;;) {
    const page = events.query({ limit: 2, ...q, ...(at ? { after: at } : {}) });
    got.push(...page.events.map((e) => e.id));
    at = page.follow;
    if (!page.next) return { got, at };
    expect(page.next).toEqual(page.follow);
  }
};

describe('event store feed', () => {
  it('numbers events in the order they are recorded, whatever their time', async () => {
    const { events } = await openStore();
    events.append([ev('a', 10), ev('b', 30)]);
    events.append([ev('c', 20)]);
    const page = events.query({ limit: 10 });
    expect(page.events.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(page.seqs).toEqual([1, 2, 3]);
    expect(page.next).toBeUndefined();
  });

  it('after t=10, t=30 and a position past t=30, an event recorded at t=20 comes next', async () => {
    const { events } = await openStore();
    events.append([ev('a', 10), ev('b', 30)]);
    const past = drain(events, undefined);
    expect(past.got).toEqual(['a', 'b']);
    events.append([ev('c', 20)]);
    expect(drain(events, past.at).got).toEqual(['c']);
  });

  it('gives a re-reported event no second number and shows it once', async () => {
    const { events } = await openStore();
    events.append([ev('a', 10)]);
    const at = drain(events, undefined).at;
    expect(events.append([ev('a', 10), ev('b', 5), ev('b', 5)]).map((e) => e.id)).toEqual(['b']);
    const page = events.query({ limit: 10, after: at });
    expect(page.events.map((e) => e.id)).toEqual(['b']);
    expect(page.seqs).toEqual([2]);
  });

  it('moves a filtered position past the events the filter skipped', async () => {
    const { events } = await openStore();
    events.append([ev('w1', 10), ev('w2', 11), ev('w3', 12)]);
    const page = events.query({ limit: 5, role: 'db' });
    expect(page.events).toEqual([]);
    expect(page.follow.seq).toBe(3);
    events.append([ev('d1', 1, 'db'), ev('w4', 2)]);
    expect(drain(events, page.follow, { role: 'db' }).got).toEqual(['d1']);
  });

  it('keeps filtering by event time while following', async () => {
    const { events } = await openStore();
    events.append([ev('a', 10), ev('b', 30)]);
    const at = drain(events, undefined, { since: 20, until: 40 });
    expect(at.got).toEqual(['b']);
    events.append([ev('c', 20), ev('d', 19), ev('e', 40)]);
    expect(drain(events, at.at, { since: 20, until: 40 }).got).toEqual(['c']);
  });

  it('pages a long feed without missing or repeating, with events recorded between pages', async () => {
    const { events } = await openStore();
    const all: string[] = [];
    let at: EventPosition | undefined;
    const seen: string[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = [ev(`x${round}`, 1000 - round * 7), ev(`y${round}`, 10 + round)];
      events.append(batch);
      all.push(...batch.map((e) => e.id));
      const page = events.query({ limit: 3, ...(at ? { after: at } : {}) });
      seen.push(...page.events.map((e) => e.id));
      at = page.follow;
    }
    seen.push(...drain(events, at).got);
    expect(seen).toEqual(all);
  });

  it('continues numbering and keeps positions valid across a restart', async () => {
    const first = await openStore();
    first.events.append([ev('a', 10), ev('b', 30)]);
    const at = first.events.query({ limit: 10 }).follow;
    await first.store.stop();
    open.splice(open.indexOf(first.store), 1);
    const again = await openStore(first.dir);
    again.events.append([ev('c', 20)]);
    const page = again.events.query({ limit: 10, after: at });
    expect(page.events.map((e) => e.id)).toEqual(['c']);
    expect(page.seqs).toEqual([3]);
  });

  it('refuses a position from another store, or one ahead of this store', async () => {
    const a = await openStore();
    const b = await openStore();
    a.events.append([ev('a', 10), ev('b', 30)]);
    const fromA = a.events.query({ limit: 10 }).follow;
    expect(fromA.feed).not.toBe(b.events.query({ limit: 1 }).follow.feed);
    expect(() => b.events.query({ limit: 10, after: fromA })).toThrow(EventCursorError);
    expect(() => b.events.query({ limit: 10, after: fromA })).toThrow(/another event store/);
    expect(() => a.events.query({ limit: 10, after: { ...fromA, seq: 3 } })).toThrow(
      /ahead of this store/,
    );
  });
});
