/**
 * Back-pressure: while the downstream has not accepted a request, the connection stops reading,
 * so a client that keeps writing fills its own socket buffers instead of our memory, and
 * nothing is acked until the downstream accepts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue } from '../helpers/deps.ts';
import {
  eventTime,
  type Harness,
  pack,
  rawClient,
  sleep,
  startForward,
} from '../ingest/forward/forward-harness.ts';

describe('forward › back-pressure', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    h?.sink.release();
    await h?.stop();
    h = undefined;
  });

  it('stops reading while downstream stalls, acks nothing until release, then delivers everything in order', async () => {
    h = await startForward();
    h.sink.stall();
    const c = await rawClient(h.port);
    const pad = 'x'.repeat(64 * 1024);
    const frames = 400; // ~26 MB in total, far beyond socket buffers
    let written = 0;
    for (let i = 0; i < frames; i++) {
      const frame = pack(['t', eventTime(1795777442, i), { i, pad }, { chunk: `c${i}` }]);
      c.socket.write(frame);
      written += frame.length;
    }
    // The first request reached the (stalled) downstream; give the server time it could use to
    // read on if it did not pause.
    await h.sink.waitForStalled(1);
    await sleep(300);
    const readByServer = await metricValue(h.deps, 'fleetline_forward_bytes_total');
    // The server paused after the first request: it has read a small part, the client is backed up.
    expect(readByServer).toBeLessThan(written / 4);
    expect(c.socket.writableLength).toBeGreaterThan(written / 2);
    expect(c.received()).toHaveLength(0);
    expect(h.sink.batches).toHaveLength(0);
    await sleep(200);
    expect(await metricValue(h.deps, 'fleetline_forward_bytes_total')).toBe(readByServer);

    h.sink.release();
    const got = await h.sink.waitForEntries(frames, 20_000);
    expect(got.map((e) => e.record.i)).toEqual(Array.from({ length: frames }, (_, i) => i));
    // One ack per request, in order.
    const acks = Buffer.concat(Array.from({ length: frames }, (_, i) => pack({ ack: `c${i}` })));
    expect(await c.waitBytes(acks.length)).toEqual(acks);
    c.socket.destroy();
  });

  it('lets stop() wait for a pending consume, then closes', async () => {
    h = await startForward();
    h.sink.stall();
    const c = await rawClient(h.port);
    await c.write(pack(['t', 1, { a: 1 }, { chunk: 'z' }]));
    await h.sink.waitForStalled(1);
    const stopping = h.server.stop();
    await sleep(50);
    expect(h.sink.stalled()).toBe(1);
    h.sink.release();
    await stopping;
    await c.closed();
    expect(h.sink.entries()).toHaveLength(1);
    expect(c.received().length).toBeGreaterThan(0);
  });

  it('does not count a connection waiting on the downstream as idle', async () => {
    h = await startForward({ idle_timeout: '150ms' });
    h.sink.stall();
    const c = await rawClient(h.port);
    await c.write(pack(['t', 1, { a: 1 }, { chunk: 'w' }]));
    await h.sink.waitForStalled(1);
    await sleep(400);
    expect(c.isClosed()).toBe(false);
    h.sink.release();
    expect(await c.waitBytes(1)).toEqual(Buffer.from(pack({ ack: 'w' })));
    await c.closed();
    expect(
      await metricValue(h.deps, 'fleetline_forward_connections_closed_total', {
        reason: 'idle_timeout',
      }),
    ).toBe(1);
  });
});
