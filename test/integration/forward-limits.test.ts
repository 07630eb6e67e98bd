/**
 * One test per limit and per class of bad input: each asserts what the client sees (ack or
 * not, connection open or closed), the counter, and for the closing cases the logged reason.
 */
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { decodeMulti } from '@msgpack/msgpack';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/core/errors.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import {
  concat,
  eventTime,
  type Harness,
  pack,
  rawClient,
  sleep,
  startForward,
} from '../ingest/forward/forward-harness.ts';

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const ET = eventTime(1795777442, 1);
const withChunk = (frame: unknown[], chunk = 'c1') => pack([...frame, { chunk }]);

describe('forward › limits and bad input', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  async function start(overrides: Record<string, unknown> = {}) {
    const cap = capturedLog();
    h = await startForward(overrides, { deps: testDeps({ log: cap.log }) });
    return { h, lines: cap.lines };
  }

  const rejected = (reason: string) =>
    metricValue(h!.deps, 'fleetline_forward_frames_rejected_total', { reason });

  it('closes without ack on a request larger than max_frame_bytes', async () => {
    const { h, lines } = await start({ max_frame_bytes: 2048 });
    const c = await rawClient(h.port);
    await c.write(withChunk(['t', concat(pack([ET, { pad: 'x'.repeat(4000) }]))]));
    await c.closed();
    expect(c.received()).toHaveLength(0);
    expect(h.sink.entries()).toHaveLength(0);
    expect(await rejected('frame_too_large')).toBe(1);
    expect(lines.find((l) => l.event === 'forward_frame_rejected')).toMatchObject({
      reason: 'frame_too_large',
      peer: '127.0.0.1',
    });
  });

  it('closes without ack when a gzip payload inflates beyond max_decompressed_bytes', async () => {
    const { h } = await start({ max_decompressed_bytes: 4096 });
    const c = await rawClient(h.port);
    const bomb = gzipSync(pack([ET, { pad: 'x'.repeat(200_000) }]));
    await c.write(withChunk(['t', bomb]));
    await c.closed();
    expect(c.received()).toHaveLength(0);
    expect(await rejected('decompressed_too_large')).toBe(1);
  });

  it('closes without ack when a small gzip payload holds more events than max_entries_per_request', async () => {
    const { h } = await start({ max_entries_per_request: 1000 });
    const c = await rawClient(h.port);
    // ~40 KB of 3-byte events [nil, {}] that gzip to a few hundred bytes.
    const tiny = Buffer.from([0x92, 0xc0, 0x80]);
    const bomb = gzipSync(Buffer.concat(Array.from({ length: 13_000 }, () => tiny)));
    expect(bomb.length).toBeLessThan(1000);
    await c.write(withChunk(['t', bomb, { compressed: 'gzip' }]));
    await c.closed();
    expect(c.received()).toHaveLength(0);
    expect(h.sink.entries()).toHaveLength(0);
    expect(await rejected('too_many_entries')).toBe(1);
  });

  it('refuses connections beyond max_connections and counts them', async () => {
    const { h, lines } = await start({ max_connections: 2 });
    const a = await rawClient(h.port);
    const b = await rawClient(h.port);
    const third = await rawClient(h.port);
    await third.closed();
    expect(
      await metricValue(h.deps, 'fleetline_forward_connections_refused_total', {
        reason: 'max_connections',
      }),
    ).toBe(1);
    expect(await metricValue(h.deps, 'fleetline_forward_connections')).toBe(2);
    expect(lines.some((l) => l.event === 'forward_connection_refused')).toBe(true);
    expect(a.isClosed() || b.isClosed()).toBe(false);
    await a.write(withChunk(['t', 1, { still: 'works' }]));
    await a.waitBytes(1);
    a.socket.destroy();
    b.socket.destroy();
  });

  it('closes a client that does not finish the handshake within handshake_timeout', async () => {
    const { h, lines } = await start({ shared_key: 'k', handshake_timeout: '150ms' });
    const c = await rawClient(h.port);
    const t0 = Date.now();
    await c.closed();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(([...decodeMulti(c.received())][0] as unknown[])[0]).toBe('HELO');
    expect(
      await metricValue(h.deps, 'fleetline_forward_auth_failures_total', {
        reason: 'handshake_timeout',
      }),
    ).toBe(1);
    expect(lines.find((l) => l.event === 'forward_auth_failed')).toMatchObject({
      reason: 'handshake_timeout',
    });
  });

  it('caps what an unauthenticated client can make us buffer before its PING', async () => {
    const { h } = await start({ shared_key: 'k' });
    const c = await rawClient(h.port);
    await c.write(pack(['PING', 'x'.repeat(20_000)]));
    await c.closed();
    expect(await rejected('frame_too_large')).toBe(1);
    expect(h.sink.entries()).toHaveLength(0);
  });

  it('closes connections silent for idle_timeout', async () => {
    const { h } = await start({ idle_timeout: '150ms' });
    const c = await rawClient(h.port);
    await c.closed();
    expect(
      await metricValue(h.deps, 'fleetline_forward_connections_closed_total', {
        reason: 'idle_timeout',
      }),
    ).toBe(1);
  });

  it('closes only the connection that sent malformed msgpack, logging the reason', async () => {
    const { h, lines } = await start();
    const good = await rawClient(h.port);
    const bad = await rawClient(h.port);
    await bad.write(Buffer.from([0x93, 0xa1, 0x74, 0xc1]));
    await bad.closed();
    await good.write(withChunk(['t', ET, { ok: 1 }]));
    await good.waitBytes(1);
    expect(good.isClosed()).toBe(false);
    expect(h.sink.entries()).toHaveLength(1);
    expect(await rejected('malformed_msgpack')).toBe(1);
    expect(lines.find((l) => l.event === 'forward_frame_rejected')).toMatchObject({
      reason: 'malformed_msgpack',
      detail: expect.stringMatching(/0xc1/),
    });
    good.socket.destroy();
  });

  it('skips and counts an invalid event inside a batch and still acks the batch', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    await c.write(
      withChunk(
        [
          't',
          [
            [ET, { ok: 1 }],
            ['noon', { bad: 1 }],
            [ET, 'no map'],
            // An own "__proto__" key, which the spool would refuse for good.
            [ET, JSON.parse('{"a": {"__proto__": 1}}')],
            [ET, { ok: 2 }],
          ],
        ],
        'abc',
      ),
    );
    expect([...decodeMulti(await c.waitBytes(9))]).toEqual([{ ack: 'abc' }]);
    expect(h.sink.entries().map((e) => e.record)).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(
      await metricValue(h.deps, 'fleetline_forward_events_invalid_total', { reason: 'proto_key' }),
    ).toBe(1);
    expect(
      await metricValue(h.deps, 'fleetline_forward_events_invalid_total', { reason: 'bad_time' }),
    ).toBe(1);
    expect(
      await metricValue(h.deps, 'fleetline_forward_events_invalid_total', { reason: 'bad_record' }),
    ).toBe(1);
    c.socket.destroy();
  });

  it('acks a request whose only event is invalid without handing anything downstream', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    await c.write(withChunk(['t', true, { a: 1 }], 'z'));
    expect([...decodeMulti(await c.waitBytes(7))]).toEqual([{ ack: 'z' }]);
    expect(h.sink.batches).toHaveLength(0);
    c.socket.destroy();
  });

  it('ignores a request that is not an array but keeps the connection (like fluentd)', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    await c.write(concat(pack({ not: 'an array' }), withChunk(['t', ET, { after: 1 }], 'n')));
    await c.waitBytes(7);
    expect(h.sink.entries()).toHaveLength(1);
    expect(await rejected('not_an_array')).toBe(1);
    c.socket.destroy();
  });

  it('logs a flood of ignored requests once, with how many were not logged, and counts them all', async () => {
    const { h, lines } = await start();
    const c = await rawClient(h.port);
    // 2,000 lone integers, each a request that is not an array, then a real request.
    await c.write(concat(new Uint8Array(2000).fill(0x07), withChunk(['t', ET, { after: 1 }], 'n')));
    await c.waitBytes(7);
    expect(h.sink.entries()).toHaveLength(1);
    expect(await rejected('not_an_array')).toBe(2000);
    const logged = lines.filter((l) => l.event === 'forward_frame_rejected');
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged.length).toBeLessThan(10);
    c.socket.destroy();
  });

  it('closes without ack on a tag that is not a string', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    await c.write(withChunk([42, ET, { a: 1 }]));
    await c.closed();
    expect(c.received()).toHaveLength(0);
    expect(await rejected('bad_tag')).toBe(1);
  });

  it('refuses zstd with a log line that says what to change', async () => {
    const { h, lines } = await start();
    const c = await rawClient(h.port);
    await c.write(
      pack(['t', concat([0x28, 0xb5, 0x2f, 0xfd], [0, 0]), { compressed: 'zstd', chunk: 'c1' }]),
    );
    await c.closed();
    expect(await rejected('unsupported_compression')).toBe(1);
    expect(String(lines.find((l) => l.reason === 'unsupported_compression')?.msg)).toMatch(
      /zstd.*compress gzip/,
    );
  });

  it('closes without ack when the downstream rejects, so the client retries', async () => {
    const { h, lines } = await start();
    h.sink.failWith(new RetryableError('full', 'spool full'));
    const c = await rawClient(h.port);
    await c.write(withChunk(['t', ET, { a: 1 }]));
    await c.closed();
    expect(c.received()).toHaveLength(0);
    expect(await metricValue(h.deps, 'fleetline_forward_consume_failures_total')).toBe(1);
    expect(lines.find((l) => l.event === 'forward_consume_failed')).toMatchObject({
      err: 'spool full',
    });
  });

  it('counts a request cut off by the end of the connection as truncated', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    const frame = withChunk(['t', ET, { a: 1 }]);
    await c.write(frame.subarray(0, frame.length - 3));
    c.socket.end();
    await c.closed();
    expect(await rejected('truncated')).toBe(1);
    expect(h.sink.entries()).toHaveLength(0);
  });

  it('accepts float times and counts them as off-spec', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    await c.write(withChunk(['t', 1700000000.5, { a: 1 }]));
    await c.waitBytes(1);
    expect(h.sink.entries()[0]).toMatchObject({ sec: 1700000000, nsec: 500_000_000 });
    expect(
      await metricValue(h.deps, 'fleetline_forward_events_off_spec_total', {
        reason: 'float_time',
      }),
    ).toBe(1);
    c.socket.destroy();
  });

  it('counts received bytes', async () => {
    const { h } = await start();
    const c = await rawClient(h.port);
    const frame = withChunk(['t', ET, { a: 1 }]);
    await c.write(frame);
    await c.waitBytes(1);
    expect(await metricValue(h.deps, 'fleetline_forward_bytes_total')).toBe(frame.length);
    c.socket.destroy();
    await sleep(10);
  });
});
