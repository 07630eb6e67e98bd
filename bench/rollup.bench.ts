/**
 * Rollup aggregation throughput: how many entries per second the rollup engine folds into its
 * intervals, for 3 roles × 2 versions and one numeric field (`reqtime`), in two stages:
 *
 *   aggregate   the pure half (grouping + level/status + sketch insert), no SQLite
 *   deliver     deliver() + the returned function inside a SQLite transaction, as the spool
 *               runs it (merge into the stored state, serialise, upsert), plus interval
 *               emission every simulated 10 s
 *
 * Run: npx tsx bench/rollup.bench.ts   (one run takes ~15 s)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../src/core/entry.ts';
import { aggregateEntries } from '../src/rollup/aggregate.ts';
import { createRollupEngine } from '../src/rollup/engine.ts';
import type { SpooledBatch } from '../src/spool/contract.ts';
import { createStore } from '../src/store/sqlite.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createMetricsRegistry } from '../src/telemetry/metrics.ts';

const ENTRIES = 1_000_000;
/** Entries per deliver(): 500 is a small Forward chunk, 5000 the spool's default delivery cap. */
const BATCH_SIZES = [500, 5000];
/** Simulated arrival rate: entries per simulated second (so 10 s intervals hold 200k entries). */
const RATE = 20_000;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const ROLES = ['web', 'api', 'worker'];
const VERSIONS = ['1.4.2', '1.4.3'];
const LEVELS = ['info', 'info', 'info', 'warn', 'error'];
const STATUSES = [200, 200, 200, 201, 304, 404, 500];

function makeEntries(): Entry[] {
  let seed = 1;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const out: Entry[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const ms = T0 + Math.floor((i / RATE) * 1000);
    const sec = Math.floor(ms / 1000);
    out.push({
      tag: 'app.access',
      sec,
      nsec: (ms - sec * 1000) * 1_000_000,
      record: {
        level: LEVELS[i % LEVELS.length]!,
        status: STATUSES[i % STATUSES.length]!,
        reqtime: rnd() < 0.9 ? 5 + rnd() * 40 : 100 + rnd() * 2000,
        path: '/api/things',
      },
      labels: { role: ROLES[i % 3]!, version: VERSIONS[(i >> 2) % 2]!, slot: String(i % 8) },
      instanceId: `i-${i % 24}`,
    });
  }
  return out;
}

function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} entries/s`;
}

function toBatches(entries: Entry[], size: number): SpooledBatch[] {
  const batches: SpooledBatch[] = [];
  for (let i = 0; i < entries.length; i += size)
    batches.push({
      seq: batches.length + 1,
      firstEntrySeq: i,
      batch: { entries: entries.slice(i, i + size), origin: { input: 'forward' }, receivedAt: T0 },
    });
  return batches;
}

/** The engine as the spool drives it, on a real SQLite store. */
async function deliverAll(
  batches: SpooledBatch[],
): Promise<{ ms: number; appended: number; stateBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-bench-rollup-'));
  const store = createStore(dir);
  await store.start();
  let now = T0;
  let appended = 0;
  const engine = createRollupEngine(
    { interval: '10s', numeric_fields: ['reqtime'], retention: '7d', lateness: '2m', grace: '2s' },
    {
      log: silentLogger(),
      clock: { now: () => now },
      metrics: createMetricsRegistry({ processMetrics: false }),
    },
    {
      store,
      spool: {
        appendInTransaction: (_db, batch) => {
          appended += batch.entries.length;
        },
      },
      members: () => 4,
      roleVersions: () => ROLES.flatMap((role) => VERSIONS.map((version) => ({ role, version }))),
    },
  );
  const db = store.db;
  const t = performance.now();
  for (const b of batches) {
    now = b.batch.entries.at(-1)!.sec * 1000 + 500;
    const fn = await engine.deliver([b]);
    db.transaction(() => fn?.(db))();
    engine.tick();
  }
  const ms = performance.now() - t;
  const stateBytes = db
    .prepare('SELECT avg(length(state)) FROM rollup_interval')
    .pluck()
    .get() as number;
  await engine.stop();
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return { ms, appended, stateBytes };
}

async function main(): Promise<void> {
  const entries = makeEntries();
  const opts = { intervalMs: 10_000, numericFields: ['reqtime'] };
  console.log(
    `${ENTRIES.toLocaleString('en-US')} entries, 3 roles × 2 versions, 1 numeric field, ${RATE} entries per simulated second`,
  );
  for (const size of BATCH_SIZES) {
    const batches = toBatches(entries, size);
    // Warm up the pure half once, then measure it.
    for (const b of batches.slice(0, 20)) aggregateEntries(b.batch.entries, opts);
    const t = performance.now();
    for (const b of batches) aggregateEntries(b.batch.entries, opts);
    const aggregateMs = performance.now() - t;
    const d = await deliverAll(batches);
    console.log(`\nbatches of ${size}:`);
    console.log(
      `  aggregate (pure):              ${rate(ENTRIES, aggregateMs)}  (${aggregateMs.toFixed(0)} ms)`,
    );
    console.log(`  deliver + SQLite transaction:  ${rate(ENTRIES, d.ms)}  (${d.ms.toFixed(0)} ms)`);
    console.log(`  ratio deliver/aggregate:       ${(d.ms / aggregateMs).toFixed(2)}×`);
    console.log(`  points appended to the spool:  ${d.appended} (rollup + members)`);
    console.log(`  stored state per interval:     ${Math.round(d.stateBytes)} bytes on average`);
  }
}

await main();
