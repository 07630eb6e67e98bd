/**
 * Benchmark: spool append — consume() → durable group commit → resolve — with 1,000-record
 * access-log batches from 4 concurrent producers, then the same with one consumer draining
 * concurrently, then the group-commit effect on small batches (commit per batch vs shared).
 *
 *   npx tsx bench/spool-append.bench.ts
 *
 * Prints records/s, commits/s and batches per commit for each scenario. Not a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpoolConfig } from '../src/config/schema.ts';
import type { Batch } from '../src/core/entry.ts';
import { createBatchCodec } from '../src/spool/codec.ts';
import { createSpool } from '../src/spool/spool.ts';
import { createSpoolTable, SPOOL_MIGRATIONS } from '../src/spool/table.ts';
import { createStore } from '../src/store/sqlite.ts';
import { testDeps } from '../test/helpers/deps.ts';
import { accessLogBatch, spoolConfig } from '../test/helpers/spool-fixtures.ts';

interface Result {
  name: string;
  /** CPU seconds (user + system) this process used during the timed part. */
  cpuSeconds: number;
  records: number;
  seconds: number;
  commits: number;
  batches: number;
  delivered?: number;
}

const GiB = 1024 * 1024 * 1024;

async function run(
  name: string,
  opts: {
    recordsPerBatch: number;
    producers: number;
    batchesPerProducer: number;
    drain: boolean;
    config?: Partial<SpoolConfig>;
  },
): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-bench-spool-'));
  const deps = testDeps();
  const store = createStore(dir);
  await store.start();
  const spool = createSpool(spoolConfig({ max_bytes: 8 * GiB, ...opts.config }), deps, store);
  let delivered = 0;
  if (opts.drain)
    spool.register({
      name: 'drain',
      async deliver(batches) {
        for (const b of batches) delivered += b.batch.entries.length;
      },
    });
  await spool.start();
  // Distinct batch objects per producer, built before timing: building is the input's cost.
  const batches: Batch[][] = Array.from({ length: opts.producers }, (_, p) =>
    Array.from({ length: 8 }, (_, i) => accessLogBatch(opts.recordsPerBatch, p * 8 + i)),
  );
  const commitsBefore = await counterValue(deps, 'fleetline_spool_commits_total');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    batches.map(async (own) => {
      for (let i = 0; i < opts.batchesPerProducer; i++) await spool.consume(own[i % own.length]!);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const commits = (await counterValue(deps, 'fleetline_spool_commits_total')) - commitsBefore;
  const total = opts.producers * opts.batchesPerProducer;
  if (opts.drain) {
    const until = Date.now() + 60_000;
    while (delivered < total * opts.recordsPerBatch && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
  }
  const cpu = process.cpuUsage(cpu0);
  await spool.stop();
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    name,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    records: total * opts.recordsPerBatch,
    seconds,
    commits,
    batches: total,
    ...(opts.drain ? { delivered } : {}),
  };
}

/** Baseline without group commit: one transaction per batch, straight on the table. */
async function commitPerBatch(recordsPerBatch: number, batches: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-bench-spool-'));
  const store = createStore(dir);
  await store.start();
  store.migrate('spool', SPOOL_MIGRATIONS);
  const table = createSpoolTable(store.db);
  const codec = createBatchCodec();
  const batch = accessLogBatch(recordsPerBatch, 1);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    const payload = codec.encode(batch);
    store.db.transaction(() =>
      table.append([{ entries: recordsPerBatch, receivedAt: batch.receivedAt, payload }]),
    )();
    // Yield like an awaiting producer would, so the comparison is fair.
    await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    name: `small batches (${recordsPerBatch} rec), one commit per batch (no grouping)`,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    records: batches * recordsPerBatch,
    seconds,
    commits: batches,
    batches,
  };
}

async function counterValue(deps: ReturnType<typeof testDeps>, name: string): Promise<number> {
  const m = deps.metrics.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values.reduce((s, v) => s + v.value, 0);
}

function print(r: Result): void {
  const rps = r.records / r.seconds;
  const line = [
    r.name.padEnd(70),
    `${Math.round(rps).toLocaleString('en-US').padStart(11)} records/s`,
    `${Math.round(r.batches / r.seconds)
      .toLocaleString('en-US')
      .padStart(8)} batches/s`,
    `${Math.round(r.commits / r.seconds)
      .toLocaleString('en-US')
      .padStart(7)} commits/s`,
    `${(r.batches / Math.max(1, r.commits)).toFixed(1).padStart(6)} batches/commit`,
  ];
  // CPU per record is what the rate would be on an otherwise idle core: the shared machine's
  // wall-clock rates swing with everyone else's load, CPU per record much less.
  const usPerRecord = (r.cpuSeconds * 1e6) / r.records;
  line.push(
    `${usPerRecord.toFixed(2)} µs CPU/record (≈ ${Math.round(1e6 / usPerRecord).toLocaleString('en-US')} records/s per busy core)`,
  );
  if (r.delivered !== undefined) line.push(`delivered ${r.delivered.toLocaleString('en-US')}`);
  console.log(line.join('  '));
}

const codecRate = (() => {
  const codec = createBatchCodec();
  const b = accessLogBatch(1000, 1);
  for (let i = 0; i < 20; i++) codec.encode(b);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) codec.encode(b);
  const enc = 200_000 / ((performance.now() - t0) / 1000);
  const p = codec.encode(b);
  const t1 = performance.now();
  for (let i = 0; i < 200; i++) codec.decode(p);
  const dec = 200_000 / ((performance.now() - t1) / 1000);
  return { enc, dec, bytes: p.byteLength };
})();

console.log(
  `spool append benchmark — node ${process.version}, ${new Date().toISOString()}, load average ${(
    await import('node:os')
  )
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `codec alone: encode ${Math.round(codecRate.enc).toLocaleString('en-US')} records/s, decode ${Math.round(codecRate.dec).toLocaleString('en-US')} records/s, ${codecRate.bytes} bytes per 1,000-record batch`,
);
const results: Result[] = [];
const scenarios: [string, Parameters<typeof run>[1]][] = [
  [
    '4 producers × 1,000-record batches, commit_interval 5ms',
    { recordsPerBatch: 1000, producers: 4, batchesPerProducer: 500, drain: false },
  ],
  [
    '4 producers × 1,000-record batches, 1 consumer draining',
    { recordsPerBatch: 1000, producers: 4, batchesPerProducer: 500, drain: true },
  ],
  [
    '4 producers × 1,000-record batches, synchronous=full',
    {
      recordsPerBatch: 1000,
      producers: 4,
      batchesPerProducer: 250,
      drain: false,
      config: { synchronous: 'full' },
    },
  ],
  [
    'small batches (10 rec), 64 producers, group commit 5ms',
    { recordsPerBatch: 10, producers: 64, batchesPerProducer: 200, drain: false },
  ],
];
for (const [name, opts] of scenarios) {
  const r = await run(name, opts);
  results.push(r);
  print(r);
}
const baseline = await commitPerBatch(10, 12_800);
print(baseline);
const grouped = results[3]!;
console.log(
  `group commit on small batches: ${(grouped.records / grouped.seconds / (baseline.records / baseline.seconds)).toFixed(2)}× the records/s of one commit per batch, with ${(baseline.commits / baseline.seconds / (grouped.commits / grouped.seconds)).toFixed(0)}× fewer commits/s`,
);
