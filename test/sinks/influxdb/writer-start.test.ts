/**
 * Start-up against an InfluxDB that does not answer: `start()` must not wait for the
 * `create_database` attempt (the inputs start after the writer, and would otherwise wait up to
 * `influxdb.timeout`), deliveries wait for it, and `stop()` ends it at once.
 */
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInfluxWriter, type InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../../src/store/sqlite.ts';
import { testDeps } from '../../helpers/deps.ts';
import { logEntries, SCHEMA, spooledBatch, tempStore, writerConfig } from './writer-fixture.ts';

/** Accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('InfluxDB writer start-up', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let writer: InfluxWriter | undefined;
  let silent: Awaited<ReturnType<typeof silentServer>> | undefined;

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterEach(async () => {
    await writer?.stop();
    await silent?.close();
    await cleanup();
  });

  for (const api of ['v1', 'v2'] as const) {
    it(`does not wait for an InfluxDB that does not answer to create its target (${api})`, async () => {
      silent = await silentServer();
      writer = createInfluxWriter(
        writerConfig({
          url: silent.url,
          api,
          org: 'acme',
          bucket: 'logs',
          token: 'secret',
          timeout: '60s',
        }),
        SCHEMA,
        testDeps(),
        { store },
      );
      const t0 = performance.now();
      await writer.start();
      // Far below the 60 s the creation request may take.
      expect(performance.now() - t0).toBeLessThan(10_000);

      let settled = false;
      const ready = writer.ready().then(() => {
        settled = true;
      });
      const delivery = writer.deliver([spooledBatch(logEntries(2), 1, 0)]);
      delivery.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBe(false);

      // stop() aborts the creation request; the delivery that waited for it is refused.
      const s0 = performance.now();
      await writer.stop();
      expect(performance.now() - s0).toBeLessThan(10_000);
      await ready;
      await expect(delivery).rejects.toThrow(/not running/);
    });
  }
});
