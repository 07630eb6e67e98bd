/**
 * Transport behaviour of the Forward server: UDP heartbeat, fluentd's empty TCP heartbeat
 * connections, half-close, the JSON side door, nil keep-alives and TLS.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { decodeMulti } from '@msgpack/msgpack';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, testDeps } from '../helpers/deps.ts';
import {
  eventTime,
  type Harness,
  pack,
  rawClient,
  startForward,
} from '../ingest/forward/forward-harness.ts';

const tlsFile = (f: string) =>
  fileURLToPath(new URL(`../fixtures/forward/tls/${f}`, import.meta.url));
const ET = eventTime(1795777442, 42);

describe('forward › transport', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('answers a UDP heartbeat with one 0x00 byte from the listening port', async () => {
    h = await startForward();
    const sock = dgram.createSocket('udp4');
    try {
      const reply = new Promise<{ msg: Buffer; port: number }>((resolve) =>
        sock.once('message', (msg, rinfo) => resolve({ msg, port: rinfo.port })),
      );
      sock.send(Buffer.from([0]), h.port, '127.0.0.1');
      const { msg, port } = await reply;
      expect([...msg]).toEqual([0]);
      expect(port).toBe(h.port);
      expect(
        await metricValue(h.deps, 'fleetline_forward_heartbeats_total', { transport: 'udp' }),
      ).toBe(1);
    } finally {
      sock.close();
    }
  });

  it('handles empty TCP connections (fluentd heartbeats) quietly: counted, no warnings', async () => {
    const lines: { level: number }[] = [];
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(c, _e, cb) {
          lines.push(JSON.parse(String(c)));
          cb();
        },
      }),
    );
    h = await startForward({}, { deps: testDeps({ log }) });
    for (let i = 0; i < 5; i++) {
      const c = await rawClient(h.port);
      c.socket.end();
      await c.closed();
    }
    // Counted on the server socket's 'close', which can come after the client saw its end.
    await expect
      .poll(() => metricValue(h!.deps, 'fleetline_forward_heartbeats_total', { transport: 'tcp' }))
      .toBe(5);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('finishes decoding a half-closed connection before closing it', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    const frames = Buffer.concat(Array.from({ length: 50 }, (_, i) => pack(['t', ET, { i }])));
    c.socket.end(frames);
    await c.closed();
    expect((await h.sink.waitForEntries(50)).map((e) => e.record.i)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('ignores nil keep-alive requests without answering', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    await c.write(Buffer.from([0xc0, 0xc0]));
    await c.write(pack(['t', ET, { a: 1 }, { chunk: 'k' }]));
    expect([...decodeMulti(await c.waitBytes(7))]).toEqual([{ ack: 'k' }]);
    expect(
      await metricValue(h.deps, 'fleetline_forward_requests_total', { mode: 'heartbeat' }),
    ).toBe(2);
    c.socket.destroy();
  });

  it('accepts JSON connections in Message and Forward mode and acks in JSON', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    await c.write(Buffer.from('["app.json", 1700000000, {"a": 1}, {"chunk": "j1"}]\n'));
    expect((await c.waitBytes(12)).toString()).toBe('{"ack":"j1"}');
    await c.write(
      Buffer.from(
        '["app.json", [[1700000001, {"b": 2}], [1700000002.5, {"b": 3}]], {"chunk": "j2"}]',
      ),
    );
    expect((await c.waitBytes(24)).toString()).toBe('{"ack":"j1"}{"ack":"j2"}');
    expect(h.sink.entries()).toEqual([
      { tag: 'app.json', sec: 1700000000, nsec: 0, record: { a: 1 } },
      { tag: 'app.json', sec: 1700000001, nsec: 0, record: { b: 2 } },
      { tag: 'app.json', sec: 1700000002, nsec: 500_000_000, record: { b: 3 } },
    ]);
    c.socket.end();
    await c.closed();
  });

  it('closes a JSON connection on malformed JSON', async () => {
    h = await startForward();
    const c = await rawClient(h.port);
    await c.write(Buffer.from('["app", 1, {"a": nope}]'));
    await c.closed();
    expect(
      await metricValue(h.deps, 'fleetline_forward_frames_rejected_total', {
        reason: 'malformed_json',
      }),
    ).toBe(1);
  });

  it('does not offer JSON when the handshake is on', async () => {
    h = await startForward({ shared_key: 'k' });
    const c = await rawClient(h.port);
    await c.write(Buffer.from('["app", 1, {"a": 1}]'));
    await c.closed();
    expect([...decodeMulti(c.received())][1]).toEqual([
      'PONG',
      false,
      'invalid ping message',
      '',
      '',
    ]);
    expect(h.sink.entries()).toHaveLength(0);
  });

  it('serves Forward over TLS on the same port', async () => {
    h = await startForward({ tls: { cert: tlsFile('cert.pem'), key: tlsFile('key.pem') } });
    const socket = tls.connect({
      port: h.port,
      host: '127.0.0.1',
      ca: readFileSync(tlsFile('cert.pem')),
      servername: 'localhost',
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const ack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(pack(['t.tls', ET, { secure: true }, { chunk: 's' }]));
    expect([...decodeMulti(await ack)]).toEqual([{ ack: 's' }]);
    expect(h.sink.entries()).toEqual([
      { tag: 't.tls', sec: 1795777442, nsec: 42, record: { secure: true } },
    ]);
    expect(h.sink.batches[0]!.origin.tls).toBe(true);
    socket.destroy();
  });

  it('keeps the lifecycle contract: stop before start is a no-op, stop is idempotent and frees the port', async () => {
    const { createForwardServer } = await import('../../src/ingest/forward/server.ts');
    const { forwardConfig } = await import('../ingest/forward/forward-harness.ts');
    const never = createForwardServer(forwardConfig(), testDeps(), {
      consume: async () => undefined,
    });
    await never.stop();
    await never.stop();
    h = await startForward();
    const port = h.port;
    await Promise.all([h.stop(), h.stop()]);
    h = await startForward({ port });
    expect(h.port).toBe(port);
  });

  it('runs the shared-key handshake inside TLS with the real fluent-logger client', async () => {
    h = await startForward({
      tls: { cert: tlsFile('cert.pem'), key: tlsFile('key.pem') },
      shared_key: 'k',
      self_hostname: 'fleetline-test',
    });
    const require = createRequire(import.meta.url);
    const fluent = require('fluent-logger');
    const sender = fluent.createFluentSender('app', {
      host: '127.0.0.1',
      port: h.port,
      tls: true,
      tlsOptions: { ca: readFileSync(tlsFile('cert.pem')) },
      requireAckResponse: true,
      enableReconnect: false,
      internalLogger: { info: () => undefined, error: () => undefined },
      security: { clientHostname: 'web-9', sharedKey: 'k' },
    });
    await new Promise<void>((resolve, reject) =>
      sender.emit('tls', { over: 'tls' }, new fluent.EventTime(1795777442, 3), (err?: Error) =>
        err ? reject(err) : resolve(),
      ),
    );
    await new Promise<void>((r) => sender.end(null, null, r));
    expect(h.sink.entries()).toEqual([
      { tag: 'app.tls', sec: 1795777442, nsec: 3, record: { over: 'tls' } },
    ]);
    expect(h.sink.batches[0]!.origin).toMatchObject({ tls: true, authHostname: 'web-9' });
  });

  it('requires a client certificate when forward.tls.ca is set', async () => {
    h = await startForward({
      tls: { cert: tlsFile('cert.pem'), key: tlsFile('key.pem'), ca: tlsFile('cert.pem') },
    });
    const connect = (withCert: boolean) =>
      new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({
          port: h!.port,
          host: '127.0.0.1',
          ca: readFileSync(tlsFile('cert.pem')),
          ...(withCert
            ? { cert: readFileSync(tlsFile('cert.pem')), key: readFileSync(tlsFile('key.pem')) }
            : {}),
        });
        s.once('secureConnect', () => resolve(s));
        s.once('error', reject);
      });
    const good = await connect(true);
    const ack = new Promise<Buffer>((resolve) => good.once('data', resolve));
    good.write(pack(['t.mtls', ET, { a: 1 }, { chunk: 'm' }]));
    expect([...decodeMulti(await ack)]).toEqual([{ ack: 'm' }]);
    good.destroy();

    const bad = await connect(false).then(
      (s) =>
        new Promise<string>((resolve) => {
          // TLS 1.3 reports the missing certificate after the handshake, on first use.
          s.once('error', (e) => resolve(e.message));
          s.once('close', () => resolve('closed'));
          s.write(pack(['t', ET, { a: 2 }]));
        }),
      (e: Error) => e.message,
    );
    expect(bad).toMatch(/certificate|closed|alert/i);
    expect(h.sink.entries()).toHaveLength(1);
    // The server counts on its own handshake error, not in step with what the client saw.
    await expect
      .poll(() =>
        metricValue(h!.deps, 'fleetline_forward_connections_refused_total', {
          reason: 'tls_error',
        }),
      )
      .toBe(1);
  });
});
