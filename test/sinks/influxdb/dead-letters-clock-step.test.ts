/**
 * The dead letter refused last is always kept (`influxdb.dead_letters.max_bytes` says so), also
 * when the wall clock stepped back (NTP at boot, a VM resumed): pruning orders by `last_at`, and
 * the newest line, dated before the rows written under the old clock, sorted as the least
 * recently refused and was deleted in the transaction that stored it — the evidence of the
 * refusal happening now gone, the older ones kept.
 */
import { describe, expect, it } from 'vitest';
import {
  createDeadLetters,
  type DeadLetterLimits,
  type DeadLetters,
} from '../../../src/sinks/influxdb/dead-letters.ts';
import { useWriterTables } from './writer-fixture.ts';

const LOOSE: DeadLetterLimits = { maxRows: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 86_400_000 };

describe('dead-letter table bounds › a clock that stepped back', () => {
  const t = useWriterTables();
  const open = (limits: Partial<DeadLetterLimits>): DeadLetters => {
    const dead = createDeadLetters(() => t.store.db, { ...LOOSE, ...limits }, t.deps);
    dead.load();
    return dead;
  };
  const lines = (dead: DeadLetters) => dead.list(1000).map((d) => d.line);

  it('keeps the newest dead letter under max_rows', () => {
    const dead = open({ maxRows: 1 });
    t.clock.set(1_700_000_100_000);
    dead.add('a v=1', 'a', 'conflict', t.clock.now());
    t.clock.set(1_700_000_000_000); // 100 s back
    dead.add('b v=1', 'b', 'conflict', t.clock.now());
    expect(lines(dead)).toEqual(['b v=1']);
    dead.addAll(
      [
        { line: 'c v=1', measurement: 'c' },
        { line: 'd v=1', measurement: 'd' },
      ],
      'conflict',
      t.clock.now() - 1000,
    );
    expect(lines(dead)).toEqual(['d v=1']);
  });

  it('keeps the newest dead letter under max_bytes', () => {
    const dead = open({ maxBytes: 1024 });
    t.clock.set(1_700_000_100_000);
    dead.add(`a v="${'x'.repeat(600)}"`, 'a', 'r', t.clock.now());
    t.clock.set(1_700_000_000_000);
    dead.add(`b v="${'y'.repeat(600)}"`, 'b', 'r', t.clock.now());
    expect(lines(dead)).toEqual([`b v="${'y'.repeat(600)}"`]);
    expect(dead.stats().rows).toBe(1);
  });
});
