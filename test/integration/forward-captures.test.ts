/**
 * fluentd 1.14.4 out_forward captures (test/fixtures/forward, see its README) replayed byte for
 * byte over a real socket: PackedForward with str32 entries, multi-member gzip, the 25-byte
 * chunk id ending in "\n", and the shared-key exchange.
 */
import { readFileSync } from 'node:fs';
import { decodeMulti } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { createFrameScanner } from '../../src/ingest/forward/frame-scanner.ts';
import { pingDigest } from '../../src/ingest/forward/handshake.ts';
import { metricValue } from '../helpers/deps.ts';
import {
  type Harness,
  pack,
  type RawClient,
  rawClient,
  startForward,
} from '../ingest/forward/forward-harness.ts';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/forward/${p}`, import.meta.url));

/** Splits a capture into its requests, keeping the exact bytes of each. */
function frames(bytes: Buffer): Buffer[] {
  const scanner = createFrameScanner(1 << 24);
  const out: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    scanner.reset(start);
    const end = scanner.scan(bytes, bytes.length);
    if (end < 0) break;
    out.push(bytes.subarray(start, end));
    start = end;
  }
  return out;
}

/** Writes `bytes` in small pieces so framing across reads is exercised too. */
async function writeInPieces(c: RawClient, bytes: Uint8Array, piece = 37) {
  for (let i = 0; i < bytes.length; i += piece) await c.write(bytes.subarray(i, i + piece));
}

describe('forward › fluentd 1.14.4 captures', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('decodes PackedForward with str32 entries (cap-packed) and sends nothing back', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    await writeInPieces(c, fixture('cap-packed/conn002.c2s.bin'));
    c.socket.end(); // out_forward half-closes after writing when it expects no ack
    await c.closed();
    const got = await h.sink.waitForEntries(10);
    expect(got).toHaveLength(10);
    expect(got[0]).toEqual({
      tag: 'app.access',
      sec: 1795777442,
      nsec: 740309198,
      record: { instance_id: 'i-0abc', msg: 'hi' },
    });
    expect(c.received()).toHaveLength(0);
    expect(await metricValue(h.deps, 'fleetline_forward_requests_total', { mode: 'packed' })).toBe(
      1,
    );
  });

  it('reads every gzip member of a CompressedPackedForward chunk (cap-gzip: 10 members)', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    await c.write(fixture('cap-gzip/conn001.c2s.bin'));
    c.socket.end();
    const got = await h.sink.waitForEntries(10);
    expect(got.map((e) => e.record)).toEqual(Array(10).fill({ instance_id: 'i-0abc', msg: 'hi' }));
    expect(got[0]).toMatchObject({ sec: 1795777462, nsec: 292375218 });
    expect(
      await metricValue(h.deps, 'fleetline_forward_requests_total', { mode: 'compressed' }),
    ).toBe(1);
  });

  it('echoes the 25-byte chunk id ending in "\\n" exactly as real in_forward does (cap-relay-plain-ack)', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    await writeInPieces(c, fixture('cap-relay-plain-ack/conn001.c2s.bin'));
    const expected = fixture('cap-relay-plain-ack/conn001.s2c.bin');
    expect(await c.waitBytes(expected.length)).toEqual(expected);
    expect(expected.subarray(-26, -25)).toEqual(Buffer.from([0xb9])); // fixstr, 25 bytes
    c.socket.end();
    await c.closed();
  });

  it('acks the gzip chunk of cap-ack-gzip with its own chunk id', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    const bytes = fixture('cap-ack-gzip/conn002.c2s.bin');
    await c.write(bytes);
    const [, , option] = [...decodeMulti(bytes)][0] as [string, Uint8Array, { chunk: string }];
    const ack = await c.waitBytes(31);
    expect([...decodeMulti(ack)]).toEqual([{ ack: option.chunk }]);
    expect(option.chunk.endsWith('\n')).toBe(true);
    c.socket.destroy();
  });

  it('runs the authenticated exchange: our HELO, a PING with the recorded salt/hostname, the recorded request, its ack', async () => {
    h = await startForward({ shared_key: 'secret123', self_hostname: 'recv' });
    const c = await rawClient(h.port);
    const [heloBytes] = await waitFrames(c, 1);
    const helo = [...decodeMulti(heloBytes!)][0] as [
      string,
      { nonce: Uint8Array; auth: Uint8Array },
    ];
    expect(helo[0]).toBe('HELO');
    const [recordedPing, request] = frames(fixture('cap-relay-security-ack/conn002.c2s.bin'));
    const [, host, salt] = [...decodeMulti(recordedPing!)][0] as string[];
    // The recorded digest was computed against fluentd's nonce; recompute it for ours.
    await c.write(
      pack(['PING', host, salt, pingDigest(salt!, host!, helo[1].nonce, 'secret123'), '', '']),
    );
    const [, pong] = await waitFrames(c, 2);
    const [word, ok, reason, hostname, digest] = [...decodeMulti(pong!)][0] as unknown[];
    expect([word, ok, reason, hostname]).toEqual(['PONG', true, '', 'recv']);
    expect(digest).toBe(pingDigest(salt!, 'recv', helo[1].nonce, 'secret123'));
    await c.write(request!);
    const [, , ack] = await waitFrames(c, 3);
    expect(ack).toEqual(frames(fixture('cap-relay-security-ack/conn002.s2c.bin'))[2]);
    expect(h.sink.entries()).toHaveLength(10);
    expect(h.sink.batches[0]!.origin.authHostname).toBe('send');
    c.socket.destroy();
  });

  it('refuses the recorded PING replayed against a fresh nonce, delivering nothing', async () => {
    h = await startForward({ shared_key: 'secret123', self_hostname: 'recv' });
    const c = await rawClient(h.port);
    await c.waitBytes(60);
    await c.write(fixture('cap-relay-security-ack/conn002.c2s.bin'));
    await c.closed();
    const replies = [...decodeMulti(c.received())];
    expect(replies[1]).toEqual(['PONG', false, 'shared_key mismatch', '', '']);
    expect(h.sink.entries()).toHaveLength(0);
  });

  it('answers a client without security with the same PONG false as fluentd and closes (cap-relay-nosec-to-sec)', async () => {
    h = await startForward({ shared_key: 'secret123', self_hostname: 'recv' });
    const c = await rawClient(h.port);
    await c.write(fixture('cap-relay-nosec-to-sec/conn002.c2s.bin'));
    await c.closed();
    const recordedPong = frames(fixture('cap-relay-nosec-to-sec/conn002.s2c.bin'))[1]!;
    expect(c.received().subarray(-recordedPong.length)).toEqual(recordedPong);
    expect(h.sink.entries()).toHaveLength(0);
    expect(
      await metricValue(h.deps, 'fleetline_forward_auth_failures_total', {
        reason: 'invalid_ping',
      }),
    ).toBe(1);
  });
});

/** Waits until the server has sent at least `n` complete msgpack values. */
async function waitFrames(c: RawClient, n: number): Promise<Buffer[]> {
  for (;;) {
    const got = frames(c.received());
    if (got.length >= n) return got;
    await c.waitBytes(c.received().length + 1);
  }
}
