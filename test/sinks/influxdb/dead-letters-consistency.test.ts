/**
 * The running totals (rows, bytes) against the table itself, and `before` paging against one
 * page, over a long random mix of refusals (new lines, lines refused again with another reason,
 * bursts with repeats), age pruning and restarts, with many dead letters refused in the same
 * millisecond. The bounds are small, so nearly every step prunes.
 */
import { describe, expect, it } from 'vitest';
import { createDeadLetters } from '../../../src/sinks/influxdb/dead-letters.ts';
import { useWriterTables } from './writer-fixture.ts';

describe('dead-letter table consistency', () => {
  const t = useWriterTables();
  it('keeps its totals equal to the table, within bounds, and pages without gaps or repeats', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const limits = { maxRows: 20, maxBytes: 1500, maxAgeMs: 60_000 };
    let dead = createDeadLetters(() => t.store.db, limits, t.deps);
    dead.load();
    const sql = () =>
      t.store.db
        .prepare(
          'SELECT count(*) AS n, coalesce(sum(length(CAST(line AS BLOB)) + length(CAST(reason AS BLOB))),0) AS b FROM influxdb_dead_letters',
        )
        .get() as { n: number; b: number };
    for (let i = 0; i < 3000; i++) {
      const op = rnd(10);
      const line = () => `m${rnd(3)} v=${rnd(40)}${'é'.repeat(rnd(50))}`;
      const reason = () => `r${'ü'.repeat(rnd(30))}`;
      if (op < 5) dead.add(line(), 'm', reason(), t.clock.now());
      else if (op < 8)
        dead.addAll(
          Array.from({ length: rnd(8) }, () => ({ line: line(), measurement: 'm' })),
          reason(),
          t.clock.now(),
        );
      else if (op < 9) dead.prune(t.clock.now());
      else {
        dead = createDeadLetters(() => t.store.db, limits, t.deps);
        dead.load();
      }
      t.clock.advance(rnd(3) * 1000);
      const s = sql();
      expect({ rows: dead.stats().rows, bytes: dead.stats().bytes }, `step ${i}`).toEqual({
        rows: s.n,
        bytes: s.b,
      });
      expect(s.n).toBeLessThanOrEqual(20);
      expect(s.n <= 1 || s.b <= 1500, `bytes ${s.b} step ${i}`).toBe(true);
      if (i % 50 === 0) {
        // Paging with `before` walks the same list as one page, equal times included.
        const all = dead.list(1000).map((d) => d.id);
        const size = 1 + rnd(4);
        const paged: number[] = [];
        let page = dead.list(size);
        while (page.length > 0) {
          paged.push(...page.map((d) => d.id));
          const last = page.at(-1)!;
          page = dead.list(size, { lastAt: last.lastAt, id: last.id });
        }
        expect(paged, `step ${i}`).toEqual(all);
      }
    }
  });
});
