/**
 * Shared pieces for the Forward tests: a config with test-friendly defaults, a started server
 * with a recording sink, a raw TCP client that records what the server sends back, and
 * msgpack helpers that write EventTime (ext 0) the way real clients do.
 */
import net from 'node:net';
import { ExtData, encode } from '@msgpack/msgpack';
import { parseConfig } from '../../../src/config/load.ts';
import type { ForwardConfig } from '../../../src/config/schema.ts';
import type { Deps } from '../../../src/core/deps.ts';
import { createForwardServer, type ForwardServer } from '../../../src/ingest/forward/server.ts';
import { testDeps } from '../../helpers/deps.ts';
import { type RecordingSink, recordingSink } from '../../helpers/recording-sink.ts';

export function forwardConfig(overrides: Record<string, unknown> = {}): ForwardConfig {
  return parseConfig({ forward: { port: 0, ...overrides } }).config.forward;
}

export interface Harness {
  server: ForwardServer;
  deps: Deps;
  sink: RecordingSink;
  port: number;
  stop(): Promise<void>;
}

export async function startForward(
  overrides: Record<string, unknown> = {},
  opts: { deps?: Deps; sink?: RecordingSink } = {},
): Promise<Harness> {
  const deps = opts.deps ?? testDeps();
  const sink = opts.sink ?? recordingSink();
  const server = createForwardServer(forwardConfig(overrides), deps, sink);
  await server.start();
  return { server, deps, sink, port: server.port(), stop: () => server.stop() };
}

/** EventTime as msgpack ext type 0 (encoded by @msgpack/msgpack as fixext8 `d7 00`). */
export function eventTime(sec: number, nsec: number): ExtData {
  const data = new Uint8Array(8);
  const v = new DataView(data.buffer);
  v.setUint32(0, sec);
  v.setUint32(4, nsec);
  return new ExtData(0, data);
}

export function pack(value: unknown): Uint8Array {
  return encode(value, { useBigInt64: true });
}

export function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p as Uint8Array)));
}

/** A raw TCP client that records every byte the server sends and when it closes. */
export interface RawClient {
  socket: net.Socket;
  received(): Buffer;
  /** Resolves once at least `n` bytes arrived. */
  waitBytes(n: number, timeoutMs?: number): Promise<Buffer>;
  /** Resolves when the server closed (or reset) the connection. */
  closed(timeoutMs?: number): Promise<void>;
  isClosed(): boolean;
  write(bytes: Uint8Array): Promise<void>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let isClosed = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (c) => {
    chunks.push(c);
    notify();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    isClosed = true;
    notify();
  });
  socket.on('end', () => {
    isClosed = true;
    notify();
  });
  const until = (cond: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (cond()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    async waitBytes(n, timeoutMs = 15_000) {
      await until(() => Buffer.concat(chunks).length >= n, `${n} bytes`, timeoutMs);
      return Buffer.concat(chunks);
    },
    closed: (timeoutMs = 15_000) => until(() => isClosed, 'close', timeoutMs),
    isClosed: () => isClosed,
    write: (bytes) =>
      new Promise<void>((resolve, reject) =>
        socket.write(bytes, (err) => (err ? reject(err) : resolve())),
      ),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
