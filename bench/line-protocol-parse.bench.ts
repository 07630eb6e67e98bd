/**
 * Line-protocol parse throughput on Telegraf-like lines (4 tags, 10 fields: floats, integers,
 * a boolean and a string, ns timestamps), as the /write input sees them: one request body of
 * 5,000 lines (Telegraf's default metric_batch_size is 1,000; clients batch up to 5,000).
 *
 *   npx tsx bench/line-protocol-parse.bench.ts
 */
import { parseLineProtocol } from '../src/ingest/line-protocol/parse.ts';

const LINES_PER_BODY = 5_000;
const ROUNDS = 40;

function body(seed: number): string {
  const lines: string[] = [];
  for (let i = 0; i < LINES_PER_BODY; i++) {
    const n = seed * LINES_PER_BODY + i;
    lines.push(
      `nginx_requests,host=web-${n % 40}.eu-west-1.compute.internal,role=web,version=1.4.${n % 3},region=eu-west-1 ` +
        `reqtime=${(n % 997) / 1000},upstream_time=${(n % 389) / 1000},bytes_sent=${n % 65536}i,` +
        `status=${200 + (n % 5)}i,requests=${n}i,active=${n % 100}i,reading=${n % 7}i,` +
        `writing=${n % 11}i,keepalive=${n % 2 === 0 ? 'true' : 'false'},path="/api/v1/items/${n % 1000}" ` +
        `${1_764_244_800_000_000_000n + BigInt(n) * 1_000_000n}`,
    );
  }
  return lines.join('\n');
}

const bodies = [body(0), body(1), body(2), body(3)];
const bytes = bodies.reduce((s, b) => s + Buffer.byteLength(b), 0) / bodies.length;

// Warm up the JIT before measuring.
for (let i = 0; i < 10; i++) parseLineProtocol(bodies[i % 4]!, { precision: 'ns', nowMs: 0 });

const start = process.hrtime.bigint();
let entries = 0;
for (let r = 0; r < ROUNDS; r++) {
  const result = parseLineProtocol(bodies[r % 4]!, { precision: 'ns', nowMs: 0 });
  if (result.errorCount !== 0) throw new Error(result.errors[0]?.message);
  entries += result.entries.length;
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;

// Baseline in the same run (the machine is noisy): JSON.parse of the same points as NDJSON,
// what the fluentd input pays per record.
const first = parseLineProtocol(bodies[0]!, { precision: 'ns', nowMs: 0 }).entries;
const ndjson = first
  .map((e) =>
    JSON.stringify({ m: e.tag, ...e.tags, ...e.record, t: `${e.sec}${e.nsec}` }, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    ),
  )
  .join('\n');
const jsonStart = process.hrtime.bigint();
let jsonRecords = 0;
for (let r = 0; r < ROUNDS; r++)
  for (const line of ndjson.split('\n')) jsonRecords += JSON.parse(line) ? 1 : 0;
const jsonSeconds = Number(process.hrtime.bigint() - jsonStart) / 1e9;

const linesPerSec = entries / seconds;
console.log('line-protocol parse (4 tags, 10 fields, ns timestamps)');
console.log(`  lines parsed     ${entries.toLocaleString('en')} in ${seconds.toFixed(2)} s`);
console.log(`  throughput       ${Math.round(linesPerSec).toLocaleString('en')} lines/s`);
console.log(`  bytes/line       ${Math.round(bytes / LINES_PER_BODY)}`);
console.log(`  MB/s             ${((bytes * ROUNDS) / seconds / 1e6).toFixed(1)}`);
console.log(`  per 5,000-line request  ${((seconds / ROUNDS) * 1000).toFixed(1)} ms`);
const jsonPerSec = jsonRecords / jsonSeconds;
console.log(
  `  baseline: JSON.parse of the same points as NDJSON ${Math.round(jsonPerSec).toLocaleString('en')} records/s`,
);
console.log(`  ratio line protocol / JSON.parse  ${(linesPerSec / jsonPerSec).toFixed(2)}`);
