import { describe, expect, it } from 'vitest';
import {
  createDeadLetters,
  type DeadLetterLimits,
  type DeadLetters,
} from '../../../src/sinks/influxdb/dead-letters.ts';
import { metricValue } from '../../helpers/deps.ts';
import { useWriterTables } from './writer-fixture.ts';

const DAY = 24 * 3600 * 1000;
const LOOSE: DeadLetterLimits = { maxRows: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 7 * DAY };

describe('dead-letter table bounds', () => {
  const t = useWriterTables();

  const open = (limits: Partial<DeadLetterLimits>): DeadLetters => {
    const dead = createDeadLetters(() => t.store.db, { ...LOOSE, ...limits }, t.deps);
    dead.load();
    return dead;
  };
  const add = (dead: DeadLetters, line: string, reason = 'field type conflict') => {
    dead.add(line, line.split(' ')[0]!, reason, t.clock.now());
    t.clock.advance(1000);
  };
  const lines = (dead: DeadLetters) => dead.list(1000).map((d) => d.line);
  const pruned = (reason: string) =>
    metricValue(t.deps, 'fleetline_influxdb_dead_letters_pruned_total', { reason });

  it('keeps at most max_rows, pruning the least recently refused first', async () => {
    const dead = open({ maxRows: 3 });
    add(dead, 'a v=1');
    add(dead, 'b v=1');
    add(dead, 'c v=1');
    add(dead, 'a v=1'); // refused again: now the most recent
    add(dead, 'd v=1');
    expect(lines(dead)).toEqual(['d v=1', 'a v=1', 'c v=1']);
    expect(dead.list(1)[0]).toMatchObject({ line: 'd v=1', count: 1 });
    expect(dead.stats()).toMatchObject({ rows: 3, pruned: { rows: 1, bytes: 0, age: 0 } });
    expect(await pruned('rows')).toBe(1);
    const row = t.store.db.prepare('SELECT count(*) AS n FROM influxdb_dead_letters').get() as {
      n: number;
    };
    expect(row.n).toBe(3);
  });

  it('prunes a burst added together down to max_rows, oldest first, keeping the newest', async () => {
    const dead = open({ maxRows: 2 });
    dead.addAll(
      ['m v=1', 'm v=2', 'm v=3', 'm v=4', 'm v=5'].map((line) => ({ line, measurement: 'm' })),
      'dropped=5',
      t.clock.now(),
    );
    expect(lines(dead)).toEqual(['m v=5', 'm v=4']);
    expect(await pruned('rows')).toBe(3);
  });

  it('keeps at most max_bytes of line + reason (UTF-8), but always the newest dead letter', async () => {
    const dead = open({ maxBytes: 100 });
    const line = (c: string) => `${c} v="${'x'.repeat(34)}"`; // 40 bytes
    add(dead, line('a'), 'r'); // 41
    add(dead, line('b'), 'r'); // 82
    expect(dead.stats()).toMatchObject({ rows: 2, bytes: 82 });
    add(dead, line('c'), 'r'); // 123 > 100: a goes
    expect(lines(dead)).toEqual([line('c'), line('b')]);
    expect(dead.stats()).toMatchObject({ rows: 2, bytes: 82, pruned: { bytes: 1 } });
    add(dead, `é v="${'y'.repeat(200)}"`, 'r'); // alone over the bound: kept, the rest go
    // é is 2 bytes, ` v="` 4, the y 200, `"` 1, the reason 1.
    expect(dead.stats()).toMatchObject({ rows: 1, bytes: 208 });
    expect(await pruned('bytes')).toBe(3);
  });

  it('tracks the bytes of a dead letter refused again with a different reason', () => {
    const dead = open({});
    add(dead, 'a v=1', 'short');
    add(dead, 'a v=1', 'a much longer reason');
    expect(dead.stats()).toMatchObject({ rows: 1, bytes: 5 + 20 });
  });

  it('prunes dead letters not refused again within max_age', async () => {
    const dead = open({ maxAgeMs: 7 * DAY });
    add(dead, 'old v=1');
    t.clock.advance(6 * DAY);
    add(dead, 'new v=1');
    t.clock.advance(DAY);
    dead.prune(t.clock.now());
    expect(lines(dead)).toEqual(['new v=1']);
    expect(dead.stats()).toMatchObject({ rows: 1, pruned: { age: 1 } });
    expect(await pruned('age')).toBe(1);
  });

  it('picks up what an earlier run stored, and applies bounds lowered since', () => {
    const first = open({});
    for (let i = 0; i < 5; i++) add(first, `m v=${i}`);
    const again = open({});
    expect(again.stats()).toMatchObject({ rows: 5, bytes: first.stats().bytes });
    const lowered = open({ maxRows: 2 });
    expect(lowered.stats()).toMatchObject({ rows: 2, pruned: { rows: 3 } });
    expect(lines(lowered)).toEqual(['m v=4', 'm v=3']);
  });

  it('logs pruning at once, then at most once a minute with the count since', () => {
    const dead = open({ maxRows: 1 });
    add(dead, 'a v=1');
    add(dead, 'b v=1'); // prunes a: logged at once
    add(dead, 'c v=1'); // within the minute: held
    add(dead, 'd v=1');
    const logged = () => t.logLines.filter((l) => l.event === 'influxdb_dead_letters_pruned');
    expect(logged()).toHaveLength(1);
    expect(logged()[0]).toMatchObject({ pruned: { rows: 1, bytes: 0, age: 0 }, rows: 1 });
    t.clock.advance(60_000);
    dead.prune(t.clock.now()); // nothing new to prune, but the held count is reported
    expect(logged()).toHaveLength(2);
    expect(logged()[1]).toMatchObject({ pruned: { rows: 2, bytes: 0, age: 0 } });
    t.clock.advance(60_000);
    dead.prune(t.clock.now());
    expect(logged()).toHaveLength(2);
  });

  it('pages newest first with a cursor that survives pruning of the oldest', () => {
    const dead = open({ maxRows: 10 });
    for (let i = 0; i < 6; i++) add(dead, `m v=${i}`);
    const page1 = dead.list(4);
    expect(page1.map((d) => d.line)).toEqual(['m v=5', 'm v=4', 'm v=3', 'm v=2']);
    const last = page1.at(-1)!;
    const page2 = dead.list(4, { lastAt: last.lastAt, id: last.id });
    expect(page2.map((d) => d.line)).toEqual(['m v=1', 'm v=0']);
  });
});
