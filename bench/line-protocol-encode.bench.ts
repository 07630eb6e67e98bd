/**
 * Benchmark: how much CPU a spooled entry costs to become its line of line protocol, the new
 * one-pass encoder (`lineEncoder` + the catalog's shape check, what the writer runs per point)
 * against the previous map-based rule (`toPoint` as of 56a838a, frozen in
 * test/sinks/influxdb/reference-encoder.ts, + `catalog.isNovel` on its maps), in one process,
 * rounds alternating, so both see the same machine. Lines are checked to be identical first.
 *
 * Workloads: a typical access record (9 flat keys), labels role/version/slot + instance id, two
 * routes, tag_keys level/status/method; labels objects
 * - "shared": frozen and shared per instance, as the labeller hands them on (the spool's
 *   memory path), or
 * - "decoded": a fresh copy per entry, as entries read back from the spool table arrive;
 * - "rotating": a fresh copy per entry, the 60 label sets taking turns entry by entry (no runs);
 * and a "clash+nested" record that also repeats role/version (renamed `role_field`, …) and has
 * a nested `http` map.
 *
 * Run: `npx tsx bench/line-protocol-encode.bench.ts` (N entries per round, ROUNDS rounds).
 */
import type { SchemaConfig } from '../src/config/schema.ts';
import type { Entry, Labels, RecordMap } from '../src/core/entry.ts';
import { createCatalog } from '../src/sinks/influxdb/catalog.ts';
import { compileSchema, lineEncoder, toPoint } from '../src/sinks/influxdb/points.ts';
import type { Db } from '../src/store/sqlite.ts';
import { referenceToPoint } from '../test/sinks/influxdb/reference-encoder.ts';

const N = Number(process.env.N ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const schema: SchemaConfig = {
  routes: [
    { match: 'app.access.**', measurement: 'access' },
    { match: 'app.**', measurement: 'app_logs' },
  ],
  tag_keys: ['level', 'status', 'method'],
};
const plan = compileSchema(schema);
const INSTANCES = 60;
const FIRST_SEQ = 1_234_567;

const sharedLabels: Labels[] = Array.from({ length: INSTANCES }, (_, i) =>
  Object.freeze({ role: `web${i % 5}`, version: '1.4.2', slot: String(i % 12) }),
);

function accessRecord(i: number): RecordMap {
  return {
    msg: `GET /api/v1/items/${i} HTTP/1.1 "Mozilla/5.0, like \\"Gecko\\""`,
    status: i % 50 === 0 ? 500 : 200,
    method: 'GET',
    level: i % 50 === 0 ? 'error' : 'info',
    path: `/api/v1/items/${i}`,
    reqtime: (i % 1000) / 1000,
    bytes: 1024 + (i % 512),
    remote_addr: `10.0.${i % 7}.${i % 250}`,
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
  };
}

function clashNestedRecord(i: number): RecordMap {
  const { user_agent: _ua, remote_addr: _ra, ...rest } = accessRecord(i);
  return {
    ...rest,
    role: `web${i % 5}`,
    version: '1.4.2',
    http: { ua: 'Mozilla/5.0', referer: 'https://example.com/a b' },
  };
}

type Kind = 'shared' | 'decoded' | 'rotating' | 'clash+nested';

function entries(kind: Kind): Entry[] {
  // Consecutive records mostly come from one agent: runs of 50 per instance.
  return Array.from({ length: N }, (_, i) => {
    const inst = kind === 'rotating' ? i % INSTANCES : Math.floor(i / 50) % INSTANCES;
    const copy = kind === 'decoded' || kind === 'rotating';
    const labels = copy ? { ...sharedLabels[inst]! } : sharedLabels[inst]!;
    return {
      tag: i % 4 === 0 ? 'app.worker' : 'app.access.web',
      sec: 1_700_000_000 + Math.floor(i / 1000),
      nsec: (i * 7919) % 1_000_000_000,
      record: kind === 'clash+nested' ? clashNestedRecord(i) : accessRecord(i),
      labels,
      instanceId: `i-0${inst.toString(16).padStart(16, '0')}`,
    };
  });
}

// A catalog that already knows every shape (the steady state): no SQLite needed.
const noDb = { prepare: () => ({ run: () => undefined, all: () => [] }) } as unknown as Db;
const catalogOf = (es: Entry[]) => {
  const catalog = createCatalog(() => noDb);
  for (let i = 0; i < es.length; i += 997) {
    const p = toPoint(es[i]!, FIRST_SEQ + i, plan);
    if ('line' in p) catalog.note(p.measurement, p.tags, p.fields, 0);
  }
  return catalog;
};

type Run = (es: Entry[]) => number;

const runOld =
  (catalog: ReturnType<typeof createCatalog>): Run =>
  (es) => {
    let bytes = 0;
    let novel = 0;
    for (let i = 0; i < es.length; i++) {
      const p = referenceToPoint(es[i]!, FIRST_SEQ + i, plan);
      if (!('line' in p)) continue;
      if (catalog.isNovel(p.measurement, p.tags, p.fields)) novel++;
      bytes += p.line.length;
    }
    return bytes + novel;
  };

const runNew = (catalog: ReturnType<typeof createCatalog>): Run => {
  const encoder = lineEncoder(plan);
  return (es) => {
    let bytes = 0;
    let novel = 0;
    for (let i = 0; i < es.length; i++) {
      const line = encoder.encode(es[i]!, FIRST_SEQ + i);
      if (typeof line !== 'string') continue;
      if (catalog.isNovelShape(encoder.shape)) novel++;
      bytes += line.length;
    }
    return bytes + novel;
  };
};

/** CPU ns per entry of one pass. */
function cpuNsPerEntry(run: Run, es: Entry[]): number {
  const c0 = process.cpuUsage();
  run(es);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / es.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `line-protocol encode A/B: ${N.toLocaleString()} entries × ${ROUNDS} rounds, node ${process.version}`,
);
for (const kind of ['shared', 'decoded', 'rotating', 'clash+nested'] as const) {
  const es = entries(kind);
  const catalog = catalogOf(es);
  // Same bytes, or the comparison means nothing.
  const enc = lineEncoder(plan);
  for (let i = 0; i < es.length; i += 101) {
    const want = referenceToPoint(es[i]!, FIRST_SEQ + i, plan);
    const got = enc.encode(es[i]!, FIRST_SEQ + i);
    if (!('line' in want) || got !== want.line)
      throw new Error(`lines differ at ${i}: ${String(got)} vs ${JSON.stringify(want)}`);
  }
  const runs = { old: runOld(catalog), new: runNew(catalog) };
  runs.old(es);
  runs.new(es); // warm-up
  const ns = { old: [] as number[], new: [] as number[] };
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const o = cpuNsPerEntry(runs.old, es);
    const n = cpuNsPerEntry(runs.new, es);
    ns.old.push(o);
    ns.new.push(n);
    ratios.push(o / n);
  }
  let bytes = 0;
  for (let i = 0; i < 1000; i++) bytes += enc.encode(es[i]!, FIRST_SEQ + i).toString().length;
  console.log(
    `${kind.padEnd(13)} old ${Math.round(median(ns.old))} ns/entry (best ${Math.round(Math.min(...ns.old))}), ` +
      `new ${Math.round(median(ns.new))} ns/entry (best ${Math.round(Math.min(...ns.new))}); ` +
      `old/new median of rounds ${median(ratios).toFixed(2)}× (range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); ` +
      `≈${Math.round(bytes / 1000)} bytes/line`,
  );
}
