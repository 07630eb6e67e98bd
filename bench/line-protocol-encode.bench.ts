/**
 * Benchmark: how fast spooled entries become line protocol. Measures `toLines` (schema + encode:
 * routes, tags, flattening, escaping, timestamps) on realistic fluentd access-log records, and
 * `encodeLine` alone on pre-built points. Run: `npx tsx bench/line-protocol-encode.bench.ts`.
 */
import type { SchemaConfig } from '../src/config/schema.ts';
import type { Entry } from '../src/core/entry.ts';
import { encodeLine, type Point } from '../src/sinks/influxdb/encode.ts';
import { compileSchema, toLines, toPoints } from '../src/sinks/influxdb/points.ts';
import type { SpooledBatch } from '../src/spool/contract.ts';

const N = Number(process.env.N ?? 500_000);
const BATCH = 1000;
const schema: SchemaConfig = {
  routes: [
    { match: 'app.access.**', measurement: 'access' },
    { match: 'app.**', measurement: 'app_logs' },
  ],
  tag_keys: ['level', 'status', 'method'],
};

function entry(i: number): Entry {
  return {
    tag: i % 4 === 0 ? 'app.worker' : 'app.access.web',
    sec: 1_700_000_000 + Math.floor(i / 1000),
    nsec: 0,
    record: {
      msg: `GET /api/v1/items/${i} HTTP/1.1 "Mozilla/5.0, like \\"Gecko\\""`,
      status: i % 50 === 0 ? 500 : 200,
      method: 'GET',
      level: i % 50 === 0 ? 'error' : 'info',
      path: `/api/v1/items/${i}`,
      reqtime: (i % 1000) / 1000,
      bytes: 1024 + (i % 512),
      http: { ua: 'Mozilla/5.0', referer: 'https://example.com/a b' },
    },
    labels: { role: `web${i % 5}`, version: '1.4.2', slot: String(i % 12), env: 'prod' },
    instanceId: `i-0${(i % 60).toString(16).padStart(16, '0')}`,
  };
}

// 20 distinct batches, cycled: the writer only ever holds one deliver call (≤ 5,000 entries by
// default), and a heap of 500k live records would make this a GC benchmark instead.
const DISTINCT = 20;
const distinct: SpooledBatch[] = Array.from({ length: DISTINCT }, (_, b) => ({
  seq: b + 1,
  firstEntrySeq: b * BATCH,
  batch: {
    entries: Array.from({ length: BATCH }, (_, k) => entry(b * BATCH + k)),
    origin: { input: 'forward' },
    receivedAt: 0,
  },
}));
const batches: SpooledBatch[] = Array.from({ length: N / BATCH }, (_, b) => ({
  ...distinct[b % DISTINCT]!,
  seq: b + 1,
  firstEntrySeq: b * BATCH,
}));
const plan = compileSchema(schema);

function time(label: string, fn: () => number): number {
  fn(); // warm-up
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const n = fn();
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const rate = n / s;
  // The machine is shared; CPU time says what the code costs, wall time what it got.
  console.log(
    `${label.padEnd(38)} ${n.toLocaleString()} lines: wall ${s.toFixed(2)} s = ${Math.round(rate).toLocaleString()} lines/s; ` +
      `CPU ${cpu.toFixed(2)} s = ${Math.round(n / cpu).toLocaleString()} lines/CPU-s`,
  );
  return rate;
}

console.log(
  `line-protocol encode benchmark: ${N.toLocaleString()} entries, node ${process.version}`,
);
let bytes = 0;
time('toLines (schema + encode)', () => {
  let n = 0;
  bytes = 0;
  for (const b of batches) {
    const lines = toLines(b, plan);
    n += lines.length;
    for (const l of lines) bytes += l.length + 1;
  }
  return n;
});
console.log(`  average line ${Math.round(bytes / N)} bytes`);
const points: Point[] = batches
  .slice(0, 100)
  .flatMap((b) => toPoints(b, plan).points)
  .map((p, i) => ({
    measurement: p.measurement,
    tags: p.tags,
    fields: p.fields,
    timeNs: BigInt(i),
  }));
time('encodeLine only (pre-built points)', () => {
  let n = 0;
  for (let r = 0; r < N / points.length; r++) for (const p of points) if (encodeLine(p)) n++;
  return n;
});
