/**
 * End-to-end benchmarks of the whole service (what `fleetline serve` builds):
 *
 *  1. Forward ingest → fleet labelling → durable spool → ack: PackedForward chunks of 1,000
 *     records (~7 fields) from 4 connections, each waiting for its ack. No InfluxDB. The
 *     clients run in a child process so the service keeps its core.
 *  2. End to end into a real InfluxDB 1.6.7: the same records through fleetline until every
 *     point is written, against writing the same lines (encoded beforehand by fleetline's own
 *     encoder) straight to the same InfluxDB (5,000-line bodies, keep-alive) in the same run.
 *     Reported as a ratio, and as CPU per point of each side (robust to the machine's noise).
 *  3. Peak RSS of the process.
 *
 * Run: npx tsx bench/e2e.bench.ts (about a minute). Needs Debian's influxd for part 2.
 *
 * BENCH_PIN=1 gives InfluxDB a core of its own, as in production where it runs on its own
 * server: influxd is pinned to CPU 0, this process (fleetline, and the direct writer) and the
 * client process to CPU 1. The ratio then asks "does fleetline on one core keep up with
 * InfluxDB on one core" instead of "how much of InfluxDB's CPU does fleetline take away".
 */

import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExtData, encode } from '@msgpack/msgpack';
import { createService } from '../src/cli/service.ts';
import { parseConfig } from '../src/config/load.ts';
import { systemClock } from '../src/core/deps.ts';
import type { Entry } from '../src/core/entry.ts';
import { startAll, stopAll } from '../src/core/lifecycle.ts';
import { toLines } from '../src/sinks/influxdb/points.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createMetricsRegistry } from '../src/telemetry/metrics.ts';
import { startInfluxd } from '../test/helpers/influxd.ts';

const RECORDS = 1000;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

/** Record i of a chunk from connection `conn` (each connection is one role of 10 instances). */
function record(conn: number, i: number) {
  const inst = (conn * 10 + (i % 10)).toString(16).padStart(16, '0');
  return {
    instance_id: `i-0${inst}`,
    role: `role${conn}`,
    version: '1.0.0',
    level: i % 50 === 0 ? 'error' : 'info',
    method: METHODS[i % 4]!,
    path: `/api/v1/items/${i % 997}`,
    status: i % 50 === 0 ? 500 : 200,
    reqtime: (i % 300) / 1000 + 0.0005,
    message: `request ${i} served from cache shard ${i % 16}`,
  };
}

function chunk(conn: number, id: number, baseSec: number): Buffer {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const t = new Uint8Array(8);
    const v = new DataView(t.buffer);
    v.setUint32(0, baseSec + id);
    v.setUint32(4, i * 1000);
    parts.push(encode([new ExtData(0, t), record(conn, i)]));
  }
  const entries = Buffer.concat(parts);
  const head = Buffer.from([0x93, 0xaa, ...Buffer.from('app.access'), 0xdb, 0, 0, 0, 0]);
  head.writeUInt32BE(entries.length, head.length - 4);
  const option = encode({
    size: RECORDS,
    chunk: `c-${conn}-${String(id).padStart(8, '0')}-abcdefghij\n`,
  });
  return Buffer.concat([head, entries, option]);
}

/**
 * Worker: 4 connections, each sends `chunks` frames one at a time, waiting for each ack.
 * Resolves with every chunk's ack latency (ms from its write to its ack).
 */
async function client(
  port: number,
  chunks: number,
  baseSec: number,
  ready: () => Promise<void>,
): Promise<number[]> {
  // Encode everything first: the measurement starts when the parent says go.
  const all = [0, 1, 2, 3].map((conn) =>
    Array.from({ length: chunks }, (_, i) => chunk(conn, i, baseSec)),
  );
  await ready();
  const latencies: number[] = [];
  await Promise.all(
    [0, 1, 2, 3].map(
      (conn) =>
        new Promise<void>((resolve, reject) => {
          const frames = all[conn]!;
          const ackLen = encode({ ack: `c-${conn}-00000000-abcdefghij\n` }).length;
          const s = net.connect(port, '127.0.0.1');
          let next = 0;
          let got = 0;
          let sentAt = 0;
          const send = () => {
            sentAt = performance.now();
            s.write(frames[next++]!);
          };
          s.on('connect', send);
          s.on('data', (d) => {
            got += d.length;
            while (got >= ackLen) {
              got -= ackLen;
              latencies.push(performance.now() - sentAt);
              if (next < frames.length) send();
              else {
                s.end();
                return;
              }
            }
          });
          s.on('close', () => resolve());
          s.on('error', reject);
        }),
    ),
  );
  return latencies;
}

interface AckLatency {
  p50: number;
  p99: number;
  max: number;
}

function ackLatency(ms: number[]): AckLatency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! };
}

if (process.env.BENCH_CLIENT) {
  const { port, chunks, baseSec } = JSON.parse(process.env.BENCH_CLIENT) as {
    port: number;
    chunks: number;
    baseSec: number;
  };
  const latencies = await client(port, chunks, baseSec, () => {
    process.send!('ready');
    return new Promise<void>((resolve) => process.once('message', () => resolve()));
  });
  process.send!({ done: ackLatency(latencies) }, () => process.exit(0));
} else {
  // The clients run in their own process so the service keeps its core.
  // Resolves with the wall time from "go" to the last ack, once the client has pre-encoded,
  // and the chunks' ack latencies.
  const runClients = (port: number, chunks: number, baseSec: number, onGo: () => void = () => {}) =>
    new Promise<{ ms: number; ack: AckLatency }>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, BENCH_CLIENT: JSON.stringify({ port, chunks, baseSec }) },
      });
      let t0 = 0;
      child.on('message', (m) => {
        if (m === 'ready') {
          onGo();
          t0 = performance.now();
          child.send('go');
        } else if (typeof m === 'object' && m !== null && 'done' in m)
          resolve({ ms: performance.now() - t0, ack: (m as { done: AckLatency }).done });
      });
      child.on('exit', (code) => code !== 0 && reject(new Error(`client exited ${code}`)));
      child.on('error', reject);
    });

  const deps = () => ({
    log: silentLogger(),
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: false }),
  });
  // Event times end about now, as live traffic's do (hour-old events sent every rollup delivery
  // down the late re-emit path, which live traffic seldom takes).
  const baseSec = Math.floor(Date.now() / 1000) - Number(process.env.BENCH_CHUNKS ?? 60) - 5;
  const chunksPerConn = Number(process.env.BENCH_CHUNKS ?? 60);
  const total = chunksPerConn * 4 * RECORDS;
  console.log(
    `node ${process.version}; ${total.toLocaleString('en-US')} records per run (4 connections × ${chunksPerConn} chunks × ${RECORDS})`,
  );

  // BENCH_PARTS=1 or =2 runs one part alone.
  const parts = new Set((process.env.BENCH_PARTS ?? '1,2').split(','));
  // BENCH_PROFILE=<dir>: a CPU profile of the service process covering exactly each part's
  // measured window (part1.cpuprofile, part2.cpuprofile), without start-up and warm-up.
  const profileDir = process.env.BENCH_PROFILE;
  // BENCH_CONFIG='{"influxdb":{"gzip":true},"spool":{…}}': overrides for part 2, to compare settings.
  const extra = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as {
    influxdb?: Record<string, unknown>;
    spool?: Record<string, unknown>;
  };
  // Pinning (see the header): taskset -a covers every thread that exists; threads started later
  // inherit the affinity of the thread that starts them.
  const pin = process.env.BENCH_PIN === '1';
  const pinTo = (cpu: number, pid: number) =>
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  if (pin) pinTo(1, process.pid);
  const inspector = profileDir ? new Session() : undefined;
  inspector?.connect();
  const startProfile = () => {
    if (!inspector) return;
    void inspector
      .post('Profiler.enable')
      .then(() => inspector.post('Profiler.setSamplingInterval', { interval: 200 }))
      .then(() => inspector.post('Profiler.start'));
  };
  const stopProfile = async (name: string) => {
    if (!inspector || !profileDir) return;
    const { profile } = await inspector.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    writeFileSync(join(profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
  };

  // 1. Ingest to durable ack, no InfluxDB.
  if (parts.has('1')) {
    const { config } = parseConfig({
      data_dir: mkdtempSync(join(tmpdir(), 'fleetline-bench-')),
      forward: { port: 0 },
      http: { port: 0 },
      registry: { records: {} },
    });
    const svc = createService(config, deps());
    await startAll(svc.components);
    await runClients(svc.forward!.port(), 5, baseSec - 600); // warm-up (registers the instances)
    let c0 = process.cpuUsage();
    const { ms, ack } = await runClients(svc.forward!.port(), chunksPerConn, baseSec, () => {
      startProfile();
      c0 = process.cpuUsage();
    });
    const cpu = process.cpuUsage(c0);
    await stopProfile('part1');
    console.log(
      `forward → spool → ack       ${Math.round((total / ms) * 1000)
        .toLocaleString('en-US')
        .padStart(10)} records/s wall` +
        `  (service CPU ${(((cpu.user + cpu.system) / 1000 / ms) * 100).toFixed(0)}% of wall; ${Math.round(total / ((cpu.user + cpu.system) / 1e6)).toLocaleString('en-US')} records per service CPU-second; clients excluded)`,
    );
    const f = (x: number) => x.toFixed(1);
    console.log(
      `ack latency per chunk        p50 ${f(ack.p50)} ms, p99 ${f(ack.p99)} ms, max ${f(ack.max)} ms`,
    );
    await stopAll(svc.components);
  }

  // 2. End to end into InfluxDB, against direct writes of the same number of lines.
  const influx = parts.has('2') ? await startInfluxd() : undefined;
  if (influx && pin) pinTo(0, influx.pid);
  if (pin)
    console.log('pinned: influxd on CPU 0; fleetline, the direct writer and the clients on CPU 1');
  if (influx)
    try {
      const query = (q: string) =>
        fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q }) }).then(
          (r) => r.json(),
        );
      await query('CREATE DATABASE direct');
      await query('CREATE DATABASE viafleetline');

      // Direct: the very lines fleetline writes for these records — its own encoder, run
      // before the clock starts, on entries labelled as the registry labels them (role from the
      // connection, slots 0-9 in order of first appearance, version 1.0.0).
      const lines: string[] = [];
      const schema = parseConfig({}).config.schema;
      let entrySeq = 1;
      for (let conn = 0; conn < 4; conn++)
        for (let id = 0; id < chunksPerConn; id++) {
          const entries: Entry[] = [];
          for (let i = 0; i < RECORDS; i++) {
            const r = record(conn, i);
            entries.push({
              tag: 'app.access',
              sec: baseSec + id,
              nsec: i * 1000,
              record: r,
              labels: { role: r.role, version: r.version, slot: String(i % 10) },
              instanceId: r.instance_id,
            });
          }
          const batch = { entries, origin: { input: 'forward' as const }, receivedAt: 0 };
          lines.push(...toLines({ seq: 0, firstEntrySeq: entrySeq, batch }, schema));
          entrySeq += RECORDS;
        }
      const bodies: string[] = [];
      for (let i = 0; i < lines.length; i += 5000) bodies.push(lines.slice(i, i + 5000).join('\n'));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      const post = (body: string) =>
        new Promise<void>((resolve, reject) => {
          const req = http.request(
            `${influx.url}/write?db=direct&precision=ns`,
            { method: 'POST', agent },
            (res) => {
              res.resume();
              res.on('end', () =>
                res.statusCode === 204
                  ? resolve()
                  : reject(new Error(`direct write ${res.statusCode}`)),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      // CPU per point of each side is what wall-clock rates on a shared machine hide.
      const influxdCpuMs = () => {
        // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 per second).
        const f = readFileSync(`/proc/${influx.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(f[11]) + Number(f[12])) * 10;
      };
      const selfCpuMs = () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      };
      const usPerPoint = (ms: number) => ((ms * 1000) / total).toFixed(1);
      // influxd's own count of write requests: how many points each body carried on average.
      const writeRequests = async () => {
        const vars = (await fetch(`${influx.url}/debug/vars`).then((r) => r.json())) as Record<
          string,
          { name?: string; values?: { writeReq?: number } }
        >;
        return Object.values(vars).find((v) => v?.name === 'httpd')?.values?.writeReq ?? 0;
      };
      const w0 = await writeRequests();
      const i0 = influxdCpuMs();
      const d0 = performance.now();
      let idx = 0;
      await Promise.all(
        [0, 1].map(async () => {
          while (idx < bodies.length) await post(bodies[idx++]!);
        }),
      );
      const directRate = (total / (performance.now() - d0)) * 1000;
      const directInfluxdCpu = influxdCpuMs() - i0;
      const directRequests = (await writeRequests()) - w0;
      agent.destroy();

      const { config } = parseConfig({
        data_dir: mkdtempSync(join(tmpdir(), 'fleetline-bench-')),
        forward: { port: 0 },
        http: { port: 0 },
        registry: { records: {} },
        influxdb: { url: influx.url, database: 'viafleetline', ...extra.influxdb },
        rollup: { interval: '10s' },
        spool: { ...extra.spool },
      });
      const svc = createService(config, deps());
      await startAll(svc.components);
      let f0 = 0;
      let s0 = 0;
      let j0 = 0;
      const w1 = await writeRequests();
      const { ms: ackedMs } = await runClients(svc.forward!.port(), chunksPerConn, baseSec, () => {
        s0 = selfCpuMs();
        j0 = influxdCpuMs();
        startProfile();
        f0 = performance.now();
      });
      for (;;) {
        const lag = svc.spool.stats().lagEntries?.influxdb ?? svc.spool.stats().lag.influxdb ?? 0;
        if (lag === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const deliveredMs = performance.now() - f0;
      const fleetlineCpu = selfCpuMs() - s0;
      const viaInfluxdCpu = influxdCpuMs() - j0;
      await stopProfile('part2');
      const viaRequests = (await writeRequests()) - w1;
      await stopAll(svc.components);
      const count = (await query(
        'SELECT count("reqtime") FROM viafleetline.autogen."app.access"',
      )) as {
        results: { series?: { values: [string, number][] }[] }[];
      };
      const written = count.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
      const viaRate = (written / deliveredMs) * 1000;
      console.log(
        `direct to InfluxDB          ${Math.round(directRate).toLocaleString('en-US').padStart(10)} points/s (the same lines pre-encoded, 5,000-line bodies, 2 connections)`,
      );
      console.log(
        `through fleetline           ${Math.round(viaRate).toLocaleString('en-US').padStart(10)} points/s delivered (${written.toLocaleString('en-US')} points; all acked after ${(ackedMs / 1000).toFixed(1)} s, all written after ${(deliveredMs / 1000).toFixed(1)} s)`,
      );
      console.log(`ratio fleetline / direct    ${(viaRate / directRate).toFixed(2)}  (goal ≥ 0.8)`);
      console.log(
        `CPU per point               influxd ${usPerPoint(directInfluxdCpu)} µs direct, ${usPerPoint(viaInfluxdCpu)} µs via fleetline; fleetline ${usPerPoint(fleetlineCpu)} µs (ingest + spool + rollup + writer, clients excluded)`,
      );
      console.log(
        `write requests              ${directRequests} direct, ${viaRequests} via fleetline (${Math.round(total / Math.max(1, directRequests))} and ${Math.round(written / Math.max(1, viaRequests))} event points per request)`,
      );
    } finally {
      await influx.destroy();
    }
  console.log(
    `peak RSS of this process     ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
}
