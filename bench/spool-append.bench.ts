/**
 * Benchmark: spool append — consume() → durable group commit → resolve — with 1,000-record
 * access-log batches from 4 concurrent producers, then the same with one consumer draining
 * concurrently, then the group-commit effect on small batches (commit per batch vs shared).
 *
 *   npx tsx bench/spool-append.bench.ts
 *
 * Prints records/s, commits/s and batches per commit for each scenario. Not a test.
 *
 * First, an in-process A/B of the Forward acknowledge path's CPU per record without SQLite:
 * decode a PackedForward chunk → label → spool-encode, with the records' original msgpack
 * bytes (raw path) vs encoded again (the entries handed over as a new array, which carries no
 * raw bytes). Alternating, median and best of BENCH_AB_ROUNDS rounds (default 40).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExtData, encode } from '@msgpack/msgpack';
import type { SpoolConfig } from '../src/config/schema.ts';
import type { Batch, Entry } from '../src/core/entry.ts';
import { decode } from '../src/ingest/forward/decode.ts';
import { createKeyCache } from '../src/ingest/forward/msgpack-reader.ts';
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

/** A fluentd-style PackedForward chunk of 1,000 records like the e2e bench's (9 fields). */
function forwardChunk(conn: number, id: number): Buffer {
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = new Uint8Array(8);
    new DataView(t.buffer).setUint32(0, 1_795_777_442 + id);
    new DataView(t.buffer).setUint32(4, i * 1000);
    parts.push(
      encode([
        new ExtData(0, t),
        {
          instance_id: `i-0${(conn * 10 + (i % 10)).toString(16).padStart(16, '0')}`,
          role: `role${conn}`,
          version: '1.0.0',
          level: i % 50 === 0 ? 'error' : 'info',
          method: methods[i % 4],
          path: `/api/v1/items/${i % 997}`,
          status: i % 50 === 0 ? 500 : 200,
          reqtime: (i % 300) / 1000 + 0.0005,
          message: `request ${i} served from cache shard ${i % 16}`,
        },
      ]),
    );
  }
  const entries = Buffer.concat(parts);
  const head = Buffer.from([0x93, 0xaa, ...Buffer.from('app.access'), 0xdb, 0, 0, 0, 0]);
  head.writeUInt32BE(entries.length, head.length - 4);
  return Buffer.concat([head, entries, encode({ size: 1000, chunk: `c-${conn}-${id}` })]);
}

/** ns of process CPU per record: decode (+label) → encode, raw bytes vs re-encoded. */
function rawVsReencode(rounds: number) {
  const chunks = 10;
  const frames = Array.from({ length: 8 }, (_, i) => forwardChunk(i % 4, i));
  const opts = { maxFrameBytes: 8 << 20, maxDecompressedBytes: 8 << 20, nowMs: 0 };
  const keys = createKeyCache();
  const codec = createBatchCodec();
  // Shared frozen labels per instance, as the labeller attaches them.
  const labels = Array.from({ length: 40 }, (_, i) =>
    Object.freeze({ role: `role${i % 4}`, version: '1.0.0', slot: String(i % 10) }),
  );
  const decodeLabelled = (frame: Buffer): Entry[] => {
    const d = decode(frame, { ...opts, keys });
    if (!('messages' in d) || d.messages[0]?.kind === 'heartbeat') throw new Error('bad frame');
    const entries = d.messages[0]!.entries;
    for (let i = 0; i < entries.length; i++) {
      entries[i]!.labels = labels[i % 40]!;
      entries[i]!.instanceId = String(entries[i]!.record.instance_id);
    }
    return entries;
  };
  const origin = { input: 'forward' as const, tls: false, peerAddress: '127.0.0.1' };
  // A new array has no raw bytes registered: the records are encoded as before.
  const asGiven = (entries: Entry[]) => entries;
  const reencode = (entries: Entry[]) => entries.slice();
  const cpuNs = (c: NodeJS.CpuUsage) => (c.user + c.system) * 1000;
  const sample = (pick: (e: Entry[]) => Entry[]) => {
    let c0 = process.cpuUsage();
    for (let k = 0; k < chunks; k++)
      codec.encode({ entries: pick(decodeLabelled(frames[k % 8]!)), origin, receivedAt: 1 });
    const both = cpuNs(process.cpuUsage(c0)) / (chunks * 1000);
    const decoded = frames.slice(0, chunks).map((_, k) => decodeLabelled(frames[k % 8]!));
    c0 = process.cpuUsage();
    for (const entries of decoded) codec.encode({ entries: pick(entries), origin, receivedAt: 1 });
    return { both, encode: cpuNs(process.cpuUsage(c0)) / (chunks * 1000) };
  };
  const raw = { both: [] as number[], encode: [] as number[] };
  const old = { both: [] as number[], encode: [] as number[] };
  const add = (to: typeof raw, s: { both: number; encode: number }) => {
    to.both.push(s.both);
    to.encode.push(s.encode);
  };
  for (let r = 0; r < 5; r++) {
    sample(asGiven); // warm-up
    sample(reencode);
  }
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither always runs on the other's garbage.
    const first = r % 2 === 0;
    add(first ? raw : old, sample(first ? asGiven : reencode));
    add(first ? old : raw, sample(first ? reencode : asGiven));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const best = (a: number[]) => Math.min(...a);
  const fmt = (a: number[]) =>
    `median ${Math.round(median(a))} ns (best ${Math.round(best(a))})`.padEnd(26);
  console.log(
    `Forward chunk → spool encode, CPU per record (${rounds} alternating rounds × ${chunks} chunks of 1,000):`,
  );
  console.log(`  decode+label+encode  re-encode ${fmt(old.both)}  raw ${fmt(raw.both)}`);
  console.log(`  encode alone         re-encode ${fmt(old.encode)}  raw ${fmt(raw.encode)}`);
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
rawVsReencode(Number(process.env.BENCH_AB_ROUNDS ?? 40));
if (process.env.BENCH_AB_ONLY) process.exit(0);
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
