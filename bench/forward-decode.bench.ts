/**
 * Forward decode benchmark: records/s for PackedForward chunks of 1,000 records (~7 fields,
 * like an access log) through (a) the pure decoder, (b) @msgpack/msgpack for reference, and
 * (c) the real server over 4 TCP connections with acks into a downstream that only counts.
 *
 * Run: npx tsx bench/forward-decode.bench.ts  (about 25 s). Goal: ≥ 1,000,000 records/s
 * decode-and-hand-off on one core.
 */
import net from 'node:net';
import { decodeMulti, ExtData, encode, decode as mpDecode } from '@msgpack/msgpack';
import { parseConfig } from '../src/config/load.ts';
import { systemClock } from '../src/core/deps.ts';
import type { Batch } from '../src/core/entry.ts';
import { decode } from '../src/ingest/forward/decode.ts';
import { createKeyCache } from '../src/ingest/forward/msgpack-reader.ts';
import { createForwardServer } from '../src/ingest/forward/server.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createMetricsRegistry } from '../src/telemetry/metrics.ts';

const RECORDS = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

function eventTime(sec: number, nsec: number): ExtData {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, sec);
  v.setUint32(4, nsec);
  return new ExtData(0, b);
}

function chunk(id: number): Buffer {
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < RECORDS; i++) {
    parts.push(
      encode([
        eventTime(1795777442 + (i >> 6), (i * 7919) % 1e9),
        {
          instance_id: `i-0${(i % 40).toString(16).padStart(16, 'a')}`,
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
  // fluentd's framing: fixarray(3), tag, entries as str32, option map with a chunk id.
  const head = Buffer.from([0x93, 0xaa, ...Buffer.from('app.access'), 0xdb, 0, 0, 0, 0]);
  head.writeUInt32BE(entries.length, head.length - 4);
  const option = encode({
    size: RECORDS,
    compressed: 'text',
    chunk: `chunk-${id}-0123456789abcdef\n`,
  });
  return Buffer.concat([head, entries, option]);
}

/**
 * The machine is shared, so wall-clock rates swing with other people's load. Records per
 * *CPU* second of this process is the fairer "on one core" figure; both are printed.
 */
interface Rate {
  wall: number;
  cpu: number;
}

function measure(records: number, ms: number, cpu: NodeJS.CpuUsage): Rate {
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { wall: (records / ms) * 1000, cpu: (records / cpuMs) * 1000 };
}

function fmt(r: Rate): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US').padStart(10);
  return `${n(r.wall)} records/s wall, ${n(r.cpu)} records per CPU-second`;
}

function benchPure(frame: Buffer): Rate {
  const keys = createKeyCache();
  const opts = { maxFrameBytes: 8 << 20, maxDecompressedBytes: 64 << 20, nowMs: Date.now(), keys };
  let records = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    for (let i = 0; i < 20; i++) {
      const d = decode(frame, opts);
      if (!('messages' in d)) throw d;
      const m = d.messages[0]!;
      if (m.kind !== 'heartbeat') records += m.entries.length;
    }
  }
  const r = measure(records, performance.now() - t0, process.cpuUsage(c0));
  console.log(
    `pure decode()             ${fmt(r)}  (${(frame.length / 1024).toFixed(0)} KiB frames)`,
  );
  return r;
}

function benchLibrary(frame: Buffer): Rate {
  // Reference only: @msgpack/msgpack with raw strings for the carrier, a second pass for entries.
  let records = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const outer = mpDecode(frame, { rawStrings: true }) as [Uint8Array, Uint8Array, unknown];
    for (const e of decodeMulti(outer[1], { useBigInt64: true })) {
      if (Array.isArray(e)) records++;
    }
  }
  const r = measure(records, performance.now() - t0, process.cpuUsage(c0));
  console.log(`@msgpack/msgpack (ref)    ${fmt(r)}`);
  return r;
}

async function benchServer(frames: Buffer[], window: number): Promise<Rate> {
  let counted = 0;
  const downstream = {
    async consume(batch: Batch) {
      counted += batch.entries.length;
    },
  };
  const { config } = parseConfig({ forward: { port: 0 } });
  const deps = {
    log: silentLogger(),
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: false }),
  };
  const server = createForwardServer(config.forward, deps, downstream);
  await server.start();
  const stopAt = performance.now() + SECONDS * 1000;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    frames.slice(0, 4).map(
      (frame) =>
        new Promise<void>((resolve) => {
          const s = net.connect(server.port(), '127.0.0.1');
          const ackLen = encode({ ack: `chunk-0-0123456789abcdef\n` }).length;
          let inflight = 0;
          let pendingBytes = 0;
          const send = () => {
            while (inflight < window && performance.now() < stopAt) {
              inflight++;
              s.write(frame);
            }
            if (inflight === 0) s.end();
          };
          s.on('connect', send);
          s.on('data', (d) => {
            pendingBytes += d.length;
            while (pendingBytes >= ackLen) {
              pendingBytes -= ackLen;
              inflight--;
            }
            send();
          });
          s.on('close', () => resolve());
        }),
    ),
  );
  // CPU time includes the in-process clients, so the server figure is conservative.
  const r = measure(counted, performance.now() - t0, process.cpuUsage(c0));
  await server.stop();
  console.log(`server 4 conns, ${window} in flight ${fmt(r)}`);
  return r;
}

const frames = [0, 1, 2, 3].map(chunk);
console.log(`node ${process.version}, ${SECONDS}s per case, chunks of ${RECORDS} records`);
const pure = benchPure(frames[0]!);
const lib = benchLibrary(frames[0]!);
const s1 = await benchServer(frames, 1);
const s4 = await benchServer(frames, 4);
console.log(
  `ratios (CPU-second rates): pure/library ${(pure.cpu / lib.cpu).toFixed(2)}x, server(1)/pure ${(s1.cpu / pure.cpu).toFixed(2)}, server(4)/pure ${(s4.cpu / pure.cpu).toFixed(2)}`,
);
