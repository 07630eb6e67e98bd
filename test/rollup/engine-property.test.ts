/**
 * The engine end to end against a one-pass reference: whatever the deliveries, late entries,
 * ticks and clock steps (forward, and back), the last fleet_rollup point written for each
 * series and interval equals the rollup of all its entries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/entry.ts';
import { createRollupEngine } from '../../src/rollup/engine.ts';
import { addRecord, emptyState, rollupFields } from '../../src/rollup/interval-state.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import { fakeClock } from '../helpers/fake-clock.ts';
import { entry, ROLLUP_DEFAULTS, spooled, T0 } from './fixtures.ts';
import { spoolDouble } from './spool-double.ts';

type Step =
  | {
      kind: 'deliver';
      entries: { at: number; role: number; level: number; v: number }[];
      rollBack: boolean;
    }
  | { kind: 'advance'; ms: number }
  | { kind: 'tick' }
  | { kind: 'crash' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('deliver' as const),
    entries: fc.array(
      fc.record({
        // Relative to now: mostly around the open and just-closed intervals, some late by up
        // to 5 minutes, a few ahead.
        at: fc.oneof(
          { arbitrary: fc.integer({ min: -25_000, max: 5_000 }), weight: 4 },
          { arbitrary: fc.integer({ min: -300_000, max: 0 }), weight: 1 },
        ),
        role: fc.integer({ min: 0, max: 1 }),
        level: fc.integer({ min: 0, max: 2 }),
        v: fc.integer({ min: 1, max: 1000 }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    // The spool's transaction fails after the rollup's function ran: nothing may stick.
    rollBack: fc.oneof(
      { arbitrary: fc.constant(false), weight: 3 },
      { arbitrary: fc.constant(true), weight: 1 },
    ),
  }),
  fc.record({
    kind: fc.constant('advance' as const),
    ms: fc.integer({ min: -20_000, max: 40_000 }),
  }),
  fc.record({ kind: fc.constant('tick' as const) }),
  fc.record({ kind: fc.constant('crash' as const) }),
);

describe('rollup engine against a one-pass reference', () => {
  it('the last point per series and interval is the rollup of all its entries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const dir = mkdtempSync(join(tmpdir(), 'fleetline-rollup-prop-'));
        const clock = fakeClock(T0 + 600_000);
        const open = async () => {
          const store = createStore(dir);
          await store.start();
          const spool = spoolDouble(store);
          const engine = createRollupEngine(ROLLUP_DEFAULTS, testDeps({ clock }), {
            store,
            spool,
            members: () => 1,
            roleVersions: () => [],
          });
          await engine.start();
          return { store, spool, engine };
        };
        let { store, spool, engine } = await open();
        try {
          const all: Entry[] = [];
          let seq = 1;
          for (const s of steps) {
            if (s.kind === 'advance') clock.set(clock.now() + s.ms);
            else if (s.kind === 'tick') engine.tick();
            else if (s.kind === 'crash') {
              // The store goes away under the engine: its stop() afterwards flushes nothing.
              await store.stop();
              await engine.stop();
              ({ store, spool, engine } = await open());
            } else {
              const es = s.entries.map((x) =>
                entry(
                  clock.now() + x.at,
                  { level: ['info', 'warn', 'error'][x.level]!, reqtime: x.v },
                  { role: ['web', 'api'][x.role]!, version: '1' },
                ),
              );
              const delivery = spool.deliver(engine, spooled(es, es.length, seq++), {
                throwAfter: s.rollBack,
              });
              if (s.rollBack) await expect(delivery).rejects.toThrow();
              else {
                await delivery;
                all.push(...es);
              }
            }
          }
          clock.set(clock.now() + 3_600_000);
          engine.tick();
          const want = new Map<string, ReturnType<typeof emptyState>>();
          for (const e of all) {
            const ms = e.sec * 1000 + e.nsec / 1e6;
            const start = ms - (ms % 10_000);
            const k = `${e.labels!.role}|${start}`;
            let st = want.get(k);
            if (!st) {
              st = emptyState();
              want.set(k, st);
            }
            addRecord(st, e.record, ['reqtime']);
          }
          const got = new Map<string, Record<string, unknown>>();
          for (const p of spool.appended())
            if (p.tag === 'fleet_rollup')
              got.set(`${p.tags!.role}|${p.sec * 1000 + p.nsec / 1e6}`, p.record);
          expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
          for (const [k, st] of want) {
            const w = rollupFields(st);
            const g = got.get(k)!;
            expect({ ...g, reqtime_sum: 0, reqtime_mean: 0 }).toEqual({
              ...w,
              reqtime_sum: 0,
              reqtime_mean: 0,
            });
          }
        } finally {
          await engine.stop();
          await store.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 200 },
    );
  });
});
