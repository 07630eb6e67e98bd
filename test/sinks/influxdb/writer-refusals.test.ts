/**
 * How the writer treats the server's refusals of lines, against a scripted InfluxDB-shaped
 * server: every refused line ends up in the dead-letter table, every other line is written,
 * and the delivery resolves.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInfluxWriter, type InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';
import { freshDatabase, influxUrl } from '../../helpers/influxdb.ts';
import {
  capturedLog,
  logEntries,
  SCHEMA,
  settlesWithin,
  spooledBatch,
  startV2Writer,
  tempStore,
  writerConfig,
} from './writer-fixture.ts';

interface Answer {
  status: number;
  json?: object;
}

/** An InfluxDB-shaped server whose answer to each request is `answer(lines, path)`. */
async function scriptedServer(answer: (lines: string[], path: string) => Answer) {
  const bodies: { path: string; lines: string[] }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const lines = raw.toString('utf8').split('\n');
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      bodies.push({ path, lines });
      const a = answer(lines, path);
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

describe('InfluxDB writer: refused lines and a missing database', () => {
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
    expect(await settlesWithin(done, 1000)).toBe(true);
    await done;
    const dead = writer.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.line).toContain(`msg="${bad}"`);
    expect(dead[0]!.reason).toContain('field type conflict');
  });

  it('backs off when CREATE DATABASE answers 200 with a statement error (InfluxDB 2.x v1 API) and says it failed', async () => {
    // InfluxDB 2.x's v1 /query answers CREATE DATABASE with 200 and a per-statement error; the
    // write keeps answering 404 until someone maps the database to a bucket.
    server = await scriptedServer((_lines, path) =>
      path === '/query'
        ? {
            status: 200,
            json: { results: [{ statement_id: 0, error: 'not implemented: CREATE DATABASE' }] },
          }
        : { status: 404, json: { code: 'not found', message: 'database not found: "fleetline"' } },
    );
    const { log, lines } = capturedLog();
    const deps = testDeps({ log });
    writer = createInfluxWriter(
      writerConfig({ url: server.url, create_database: true, concurrency: 1 }),
      SCHEMA,
      deps,
      { store },
    );
    await writer.start();
    const done = writer.deliver([spooledBatch(logEntries(4), 1, 0)]);
    done.catch(() => {});
    await new Promise((r) => setTimeout(r, 600));
    const writes = server.bodies.filter((b) => b.path === '/write').length;
    // min_retry_delay 50 ms, max 500 ms: a handful of attempts in 600 ms, not one per round trip.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(15);
    expect(await metricValue(deps, 'fleetline_influxdb_database_created_total')).toBe(0);
    expect(lines.filter((l) => l.event === 'influxdb_database_created')).toEqual([]);
    expect(
      lines.some(
        (l) =>
          l.event === 'influxdb_create_database_failed' &&
          String(l.reason).includes('not implemented: CREATE DATABASE'),
      ),
    ).toBe(true);
    await writer.stop();
    await expect(done).rejects.toThrow(/not running/);
  });

  it('writes again at once after creating the database, but backs off if the write still answers 404', async () => {
    // The create succeeds, yet the write keeps finding nothing (a proxy sending /query and
    // /write to different servers, a v2 bucket the token cannot see): that must not become a
    // loop as fast as the server answers.
    server = await scriptedServer((_lines, path) =>
      path === '/query'
        ? { status: 200, json: { results: [{ statement_id: 0 }] } }
        : { status: 404, json: { error: 'database not found: "fleetline"' } },
    );
    writer = createInfluxWriter(
      writerConfig({ url: server.url, create_database: true, concurrency: 1 }),
      SCHEMA,
      testDeps(),
      { store },
    );
    await writer.start();
    const done = writer.deliver([spooledBatch(logEntries(4), 1, 0)]);
    done.catch(() => {});
    await new Promise((r) => setTimeout(r, 600));
    const paths = server.bodies.map((b) => b.path);
    // The first 404 is followed by CREATE DATABASE and an immediate second write.
    expect(paths.slice(0, 4)).toEqual(['/query', '/write', '/query', '/write']);
    expect(paths.filter((p) => p === '/write').length).toBeLessThan(15);
    await writer.stop();
    await expect(done).rejects.toThrow(/not running/);
  });

  it('dead-letters a whole span at once when the server says it dropped every point of it', async () => {
    // A field that changed type (a release logs `msg` differently) makes InfluxDB refuse every
    // line of every body: bisecting such a body down to single lines took 2n requests (about
    // 10,000 and 12 s per 5,000-line body on loopback) while "dropped=N" already says it all.
    const db = await freshDatabase('refused');
    await fetch(`${influxUrl()}/write?db=${db}&precision=s`, {
      method: 'POST',
      body: 'app.log msg=1 1700000000',
    });
    const { log, lines } = capturedLog();
    const deps = testDeps({ log });
    writer = createInfluxWriter(
      writerConfig({ url: influxUrl(), database: db, batch_lines: 400 }),
      SCHEMA,
      deps,
      { store },
    );
    await writer.start();
    await writer.deliver([spooledBatch(logEntries(1000), 1, 0)]);
    expect(writer.deadLetters(5000)).toHaveLength(1000);
    expect(await metricValue(deps, 'fleetline_influxdb_dead_letters_total')).toBe(1000);
    expect(await metricValue(deps, 'fleetline_influxdb_bisect_requests_total')).toBe(0);
    expect(await metricValue(deps, 'fleetline_influxdb_requests_total')).toBe(3);
    // One warning per refused body, not one per line.
    const warned = lines.filter((l) => l.event === 'influxdb_lines_dead_lettered');
    expect(warned.map((l) => l.lines as number).sort((a, b) => a - b)).toEqual([200, 400, 400]);
    expect(warned[0]!.measurements).toEqual({ 'app.log': 400 });
  });

  it('bisects only the spans whose points the server dropped in part', async () => {
    // Lines 2, 3 and 11 are refused; the server's count says how many of those a body held.
    server = await scriptedServer((lines) => {
      const bad = lines.filter((l) => /"m (2|3|11)"/.test(l)).length;
      return bad > 0
        ? {
            status: 400,
            json: { error: `partial write: field type conflict: … dropped=${bad}` },
          }
        : { status: 204 };
    });
    writer = await startV2Writer(server.url, store, { create_database: false });
    const entries = logEntries(16).map((e, i) => ({
      ...e,
      record: { ...e.record, msg: `m ${i}` },
    }));
    await writer.deliver([spooledBatch(entries, 1, 0)]);
    expect(
      writer
        .deadLetters()
        .map((d) => d.line.match(/msg="m (\d+)"/)?.[1])
        .sort(),
    ).toEqual(['11', '2', '3']);
    // Halves in request order; [2, 4) holds only refused lines ("dropped=2" = its size), so it
    // is dead-lettered whole instead of being split into two more requests.
    expect(server.bodies.map((b) => b.lines.length)).toEqual([
      16, 8, 4, 2, 2, 4, 8, 4, 2, 2, 1, 1, 4,
    ]);
  });
});
