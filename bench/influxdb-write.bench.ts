/**
 * Benchmark: the InfluxDB writer against a real InfluxDB 1.6.7, compared in the same run with
 * writing the very same line protocol, pre-encoded, straight to the same server over a plain
 * keep-alive `node:http` agent (5,000-line bodies, one request at a time — what the writer
 * does per 5,000-entry deliver call from the spool). The writer's time includes encoding
 * (schema + line protocol), gzip where enabled, and the SQLite catalog; the baseline's does not.
 * Reports points/s, the writer/baseline ratio (goal ≥ 0.8) and peak RSS.
 *
 * Run: `npx tsx bench/influxdb-write.bench.ts` (N=… to change the point count).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InfluxdbConfig, SchemaConfig } from '../src/config/schema.ts';
import type { Entry } from '../src/core/entry.ts';
import { compileSchema, toLines } from '../src/sinks/influxdb/points.ts';
import { createInfluxWriter } from '../src/sinks/influxdb/writer.ts';
import type { SpooledBatch } from '../src/spool/contract.ts';
import { createStore } from '../src/store/sqlite.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createMetricsRegistry } from '../src/telemetry/metrics.ts';
import { startInfluxd } from '../test/helpers/influxd.ts';

const N = Number(process.env.N ?? 50_000);
const BATCH = 1000; // entries per spooled batch
const DELIVER = 5; // spooled batches per deliver call = the spool's default 5,000 entries
const schema: SchemaConfig = {
  routes: [{ match: 'app.access.**', measurement: 'access' }],
  tag_keys: ['level', 'status', 'method'],
};

function entry(i: number): Entry {
  return {
    tag: 'app.access.web',
    sec: 1_700_000_000 + Math.floor(i / 1000),
    nsec: 0,
    record: {
      msg: `GET /api/v1/items/${i % 997} HTTP/1.1`,
      status: i % 50 === 0 ? 500 : 200,
      method: 'GET',
      path: `/api/v1/items/${i % 997}`,
      reqtime: (i % 1000) / 1000,
      bytes: 1024 + (i % 512),
    },
    labels: { role: `web${i % 5}`, version: '1.4.2', slot: String(i % 12) },
    instanceId: `i-0${(i % 60).toString(16).padStart(16, '0')}`,
  };
}

const batches: SpooledBatch[] = Array.from({ length: N / BATCH }, (_, b) => ({
  seq: b + 1,
  firstEntrySeq: b * BATCH,
  batch: {
    entries: Array.from({ length: BATCH }, (_, k) => entry(b * BATCH + k)),
    origin: { input: 'forward' as const },
    receivedAt: 0,
  },
}));

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);

const influxd = await startInfluxd({ env: { INFLUXDB_DATA_CACHE_MAX_MEMORY_SIZE: '4g' } });
const query = async (q: string, db?: string) => {
  const body = new URLSearchParams({ q });
  if (db) body.set('db', db);
  const res = await fetch(`${influxd.url}/query`, { method: 'POST', body });
  return (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
};
/** CPU seconds used so far by this process and by influxd (from /proc, 100 ticks/s). */
const cpuNow = () => {
  const c = process.cpuUsage();
  const stat = readFileSync(`/proc/${influxd.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { node: (c.user + c.system) / 1e6, influxd: (Number(f[11]) + Number(f[12])) / 100 };
};
const cpuSince = (t0: ReturnType<typeof cpuNow>) => {
  const t = cpuNow();
  return { node: t.node - t0.node, influxd: t.influxd - t0.influxd };
};
const count = async (db: string) =>
  (await query('SELECT count(msg) FROM access', db)).results[0]?.series?.[0]?.values[0]?.[1];

async function runWriter(db: string, gzip: boolean, deliverBatches = DELIVER) {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-bench-'));
  const store = createStore(dir);
  await store.start();
  const config: InfluxdbConfig = {
    url: influxd.url,
    api: 'v1',
    database: db,
    create_database: true,
    batch_lines: 5000,
    concurrency: 2,
    gzip,
    timeout: '30s',
    min_retry_delay: '250ms',
    max_retry_delay: '5s',
  };
  const deps = {
    log: silentLogger(),
    clock: { now: () => Date.now() },
    metrics: createMetricsRegistry({ processMetrics: false }),
  };
  const w = createInfluxWriter(config, schema, deps, { store });
  await w.start();
  peakRss = process.memoryUsage.rss();
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i += deliverBatches)
    await w.deliver(batches.slice(i, i + deliverBatches));
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSince(c0);
  await w.stop();
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return { s, peak: peakRss, cpu };
}

async function runRaw(db: string, bodies: string[]) {
  await query(`CREATE DATABASE "${db}"`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`/write?db=${db}&precision=ns`, influxd.url);
  peakRss = process.memoryUsage.rss();
  const c0 = cpuNow();
  const t0 = performance.now();
  for (const body of bodies) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
    if (status !== 204) throw new Error(`baseline write answered ${status}`);
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSince(c0);
  agent.destroy();
  return { s, peak: peakRss, cpu };
}

const plan = compileSchema(schema);
const lines = batches.flatMap((b) => toLines(b, plan));
const bodies: string[] = [];
for (let i = 0; i < lines.length; i += 5000) bodies.push(lines.slice(i, i + 5000).join('\n'));

const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
const rate = (s: number) => Math.round(N / s);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
console.log(
  `InfluxDB write benchmark: ${ROUNDS} rounds × ${N.toLocaleString()} points per variant, InfluxDB 1.6.7 (private), node ${process.version}`,
);
// The machine is shared and noisy: variants alternate within each round, every trial writes to
// a fresh database, and the summary compares medians and per-round ratios.
const runs: Record<
  'raw' | 'writer' | 'writerGzip' | 'writerBig',
  { s: number; peak: number; cpu: { node: number; influxd: number } }[]
> = {
  raw: [],
  writer: [],
  writerGzip: [],
  writerBig: [],
};
for (let round = 1; round <= ROUNDS; round++) {
  const raw = await runRaw(`raw_${round}`, bodies);
  const plain = await runWriter(`writer_${round}`, false);
  const zipped = await runWriter(`writer_gzip_${round}`, true);
  const big = await runWriter(`writer_big_${round}`, false, 4 * DELIVER);
  for (const db of [
    `raw_${round}`,
    `writer_${round}`,
    `writer_gzip_${round}`,
    `writer_big_${round}`,
  ]) {
    const n = await count(db);
    if (n !== N) throw new Error(`${db}: expected ${N} points, found ${n}`);
  }
  runs.raw.push(raw);
  runs.writer.push(plain);
  runs.writerGzip.push(zipped);
  runs.writerBig.push(big);
  console.log(
    `round ${round}: baseline ${rate(raw.s).toLocaleString()} pts/s · writer gzip off ${rate(plain.s).toLocaleString()} pts/s ` +
      `(${(raw.s / plain.s).toFixed(2)}×) · writer gzip on ${rate(zipped.s).toLocaleString()} pts/s (${(raw.s / zipped.s).toFixed(2)}×) · writer 20k-entry delivers ${rate(big.s).toLocaleString()} pts/s (${(raw.s / big.s).toFixed(2)}×) ` +
      `· peak RSS ${mib(raw.peak)} / ${mib(plain.peak)} / ${mib(zipped.peak)}`,
  );
}
clearInterval(sampler);
const usPerPoint = (k: keyof typeof runs, who: 'node' | 'influxd') =>
  median(runs[k].map((r) => (r.cpu[who] / N) * 1e6)).toFixed(1);
console.log(
  `median CPU µs per point (fleetline process / influxd): ` +
    (['raw', 'writer', 'writerGzip', 'writerBig'] as const)
      .map((k) => `${k} ${usPerPoint(k, 'node')} / ${usPerPoint(k, 'influxd')}`)
      .join(' · '),
);
const med = (k: keyof typeof runs) => median(runs[k].map((r) => rate(r.s)));
const ratios = (k: 'writer' | 'writerGzip' | 'writerBig') =>
  runs[k].map((r, i) => runs.raw[i]!.s / r.s);
console.log(
  `median pts/s: baseline ${med('raw').toLocaleString()}, writer gzip off ${med('writer').toLocaleString()}, gzip on ${med('writerGzip').toLocaleString()}`,
);
console.log(
  `median per-round ratio writer/baseline: gzip off ${median(ratios('writer')).toFixed(2)}, gzip on ${median(ratios('writerGzip')).toFixed(2)}, ` +
    `gzip off with 20,000-entry delivers ${median(ratios('writerBig')).toFixed(2)} (goal ≥ 0.8)`,
);
console.log(
  `peak RSS (whole process, includes the ${N.toLocaleString()} prepared entries and lines): ` +
    `baseline ${mib(Math.max(...runs.raw.map((r) => r.peak)))}, writer ${mib(Math.max(...runs.writer.map((r) => r.peak)))}, ` +
    `writer gzip ${mib(Math.max(...runs.writerGzip.map((r) => r.peak)))}; maxRSS ${mib(process.resourceUsage().maxRSS * 1024)}`,
);
await influxd.destroy();
