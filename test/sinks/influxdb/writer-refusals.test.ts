/**
 * How the writer treats the server's refusals of lines, against a scripted InfluxDB-shaped
 * server: every refused line ends up in the dead-letter table, every other line is written,
 * and the delivery resolves.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../../src/store/sqlite.ts';
import {
  logEntries,
  settlesWithin,
  spooledBatch,
  startV2Writer,
  tempStore,
} from './writer-fixture.ts';

interface Answer {
  status: number;
  json?: object;
}

/** A `/api/v2/write` endpoint whose answer to each body is `answer(lines)`. */
async function scriptedServer(answer: (lines: string[]) => Answer) {
  const bodies: string[][] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const lines = raw.toString('utf8').split('\n');
      bodies.push(lines);
      const a = answer(lines);
      res.writeHead(a.status, a.json ? { 'content-type': 'application/json' } : {});
      res.end(a.json ? JSON.stringify(a.json) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('InfluxDB writer: refused lines', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let server: Awaited<ReturnType<typeof scriptedServer>> | undefined;
  let writer: InfluxWriter | undefined;

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterEach(async () => {
    await writer?.stop();
    await server?.close();
    await cleanup();
  });

  it('dead-letters the line InfluxDB 2.x refuses with 422 (field type conflict) and writes the rest', async () => {
    // InfluxDB 2.x answers a field type conflict with 422 "unprocessable entity" (OSS 2.7), and
    // stores the other lines of the body, like 1.x does with its 400 "partial write".
    const bad = 'request 7';
    server = await scriptedServer((lines) =>
      lines.some((l) => l.includes(bad))
        ? {
            status: 422,
            json: {
              code: 'unprocessable entity',
              message:
                'failure writing points to database: partial write: field type conflict: input field "msg" on measurement "app.log" is type string, already exists as type float dropped=1',
            },
          }
        : { status: 204 },
    );
    writer = await startV2Writer(server.url, store, { create_database: false });
    const done = writer.deliver([spooledBatch(logEntries(16), 1, 0)]);
    expect(await settlesWithin(done, 3000)).toBe(true);
    await done;
    const dead = writer.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.line).toContain(`msg="${bad}"`);
    expect(dead[0]!.reason).toContain('field type conflict');
  });
});
