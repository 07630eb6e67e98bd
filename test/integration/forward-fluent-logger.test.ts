/**
 * The real `fluent-logger` npm client (3.4.1) over real TCP against the Forward server, in each
 * event mode it offers, with acks and with the shared-key handshake.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue } from '../helpers/deps.ts';
import { type Harness, sleep, startForward } from '../ingest/forward/forward-harness.ts';

const require = createRequire(import.meta.url);
const fluent = require('fluent-logger') as {
  createFluentSender(tag: string, options: Record<string, unknown>): Sender;
  EventTime: new (sec: number, nsec: number) => unknown;
};
interface Sender {
  emit(label: string, data: object, time: unknown, cb?: (err?: Error) => void): void;
  end(label?: null, data?: null, cb?: () => void): void;
  on(event: string, fn: (err: Error) => void): void;
}

const silent = { info: () => undefined, error: () => undefined };

function sender(port: number, options: Record<string, unknown>): Sender {
  return fluent.createFluentSender('app', {
    host: '127.0.0.1',
    port,
    enableReconnect: false,
    internalLogger: silent,
    flushInterval: 10,
    ...options,
  });
}

const emit = (s: Sender, label: string, data: object, time: unknown) =>
  new Promise<void>((resolve, reject) =>
    s.emit(label, data, time, (err) => (err ? reject(err) : resolve())),
  );

const close = (s: Sender) => new Promise<void>((r) => s.end(null, null, r));

describe('forward › fluent-logger client', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it.each(['Message', 'PackedForward', 'CompressedPackedForward'])(
    'delivers every record with tag, nanosecond time and fields in %s mode with requireAckResponse',
    async (eventMode) => {
      h = await startForward();
      const s = sender(h.port, { eventMode, requireAckResponse: true, ackResponseTimeout: 5000 });
      const sent = Array.from({ length: 20 }, (_, i) => ({
        instance_id: 'i-0abc',
        n: i,
        msg: `hello ${i}`,
        nested: { ok: true, list: [1, 'two'] },
      }));
      // Every emit callback fires only after its ack arrived.
      await Promise.all(
        sent.map((r, i) => emit(s, 'access', r, new fluent.EventTime(1795777442 + i, 123_456_789))),
      );
      await close(s);
      const got = h.sink.entries();
      expect(got).toHaveLength(20);
      got.forEach((e, i) => {
        expect(e).toEqual({
          tag: 'app.access',
          sec: 1795777442 + i,
          nsec: 123_456_789,
          record: sent[i],
        });
      });
      expect(h.sink.batches[0]!.origin).toMatchObject({
        input: 'forward',
        peerAddress: '127.0.0.1',
        tls: false,
      });
      expect(await metricValue(h.deps, 'fleetline_forward_events_accepted_total')).toBe(20);
      expect(await metricValue(h.deps, 'fleetline_forward_acks_total')).toBeGreaterThan(0);
    },
  );

  it('accepts integer-second times that fluent-logger sends for a Date', async () => {
    h = await startForward();
    const s = sender(h.port, { requireAckResponse: true });
    await emit(s, 'x', { a: 1 }, new Date(1_700_000_000_900));
    await close(s);
    expect(h.sink.entries()[0]).toMatchObject({ sec: 1_700_000_000, nsec: 0, record: { a: 1 } });
  });

  it('completes the shared-key handshake and delivers with the right key', async () => {
    h = await startForward({ shared_key: 'secret123', self_hostname: 'fleetline-test' });
    const s = sender(h.port, {
      eventMode: 'PackedForward',
      requireAckResponse: true,
      security: { clientHostname: 'web-1', sharedKey: 'secret123' },
    });
    await emit(s, 'secure', { a: 1 }, new fluent.EventTime(1795777442, 5));
    await close(s);
    expect(h.sink.entries()).toEqual([
      { tag: 'app.secure', sec: 1795777442, nsec: 5, record: { a: 1 } },
    ]);
    expect(h.sink.batches[0]!.origin.authHostname).toBe('web-1');
    expect(await metricValue(h.deps, 'fleetline_forward_auth_failures_total')).toBe(0);
  });

  it('rejects a wrong shared key: PONG false, nothing delivered, failure counted', async () => {
    h = await startForward({ shared_key: 'secret123', self_hostname: 'fleetline-test' });
    const s = sender(h.port, {
      requireAckResponse: true,
      security: { clientHostname: 'web-1', sharedKey: 'wrong' },
    });
    const failed = new Promise<Error>((resolve) => s.on('error', resolve));
    s.emit('secure', { a: 1 }, new fluent.EventTime(1795777442, 5));
    const err = await failed;
    expect(err.message).toMatch(/shared_key mismatch/);
    await sleep(50);
    await close(s);
    expect(h.sink.entries()).toHaveLength(0);
    expect(
      await metricValue(h.deps, 'fleetline_forward_auth_failures_total', {
        reason: 'shared_key_mismatch',
      }),
    ).toBe(1);
  });
});
