/**
 * The InfluxDB writer: a `SpoolConsumer` that turns spooled batches into line protocol and
 * writes them to InfluxDB (v1 `/write` or v2 `/api/v2/write`), resolving `deliver` only when
 * every line is either acknowledged by the server or recorded as a dead letter. The spool owns
 * durability; this writer holds nothing between calls, so a rejection (writer stopped) simply
 * means the spool offers the same batches again after a restart — and because point timestamps
 * are derived from the spool's entry sequence, re-writing them is idempotent.
 *
 *   deliver(batches) ─▶ each line into a body's bytes (line-body.ts), ≈batch_lines per body
 *        ─▶ ≤concurrency POSTs writer-wide (gzip unless loopback)
 *        204 ─▶ done · 400/413 ─▶ bisect to single lines ─▶ dead letters (bounded table)
 *        401/403/404, 429, 5xx, network ─▶ backoff (Retry-After) and retry until stopped
 *
 * Bisecting a 400: InfluxDB stores the valid lines of a rejected body and drops the bad ones
 * without saying which; re-sending halves is safe (re-writing a stored point changes nothing)
 * and finds exactly the refused lines in O(bad × log n) requests. A span whose refusal says
 * `dropped=` its size is dead-lettered whole without splitting it further.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb, constants as zlibConstants } from 'node:zlib';
import { parseDuration } from '../../config/duration.ts';
import type { InfluxdbConfig, SchemaConfig } from '../../config/schema.ts';
import { CATALOG_LIMITS, DEAD_LETTER_LIMITS } from '../../config/sections/influxdb.ts';
import type { Deps } from '../../core/deps.ts';
import type { Entry } from '../../core/entry.ts';
import { type Component, component } from '../../core/lifecycle.ts';
import type { MeasurementModel } from '../../generate/model.ts';
import type { SpoolConsumer, SpooledBatch } from '../../spool/contract.ts';
import type { Store } from '../../store/sqlite.ts';
import { counter, histogram } from '../../telemetry/metrics.ts';
import { createCatalog } from './catalog.ts';
import {
  createDeadLetters,
  type DeadLetter,
  type DeadLetterCursor,
  type DeadLetterStats,
} from './dead-letters.ts';
import {
  classifyResponse,
  InfluxWriterStoppedError,
  serverMessage,
  type WriteOutcome,
} from './errors.ts';
import { gzipBodies } from './gzip-default.ts';
import { createPoster, RequestTimeoutError } from './http-post.ts';
import { LineBody, type Span } from './line-body.ts';
import { copyShape, type PointShape } from './line-encoder.ts';
import { compileSchema, lineEncoder, toPoint } from './points.ts';
import { retryDelay } from './retry-delay.ts';
import { INFLUXDB_MIGRATIONS } from './tables.ts';

const gzip = promisify(gzipCb);

/** InfluxDB 1.x refuses bodies above `max-body-size` (25,000,000 bytes by default). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Spool deliveries in flight at once. Two keep both sides busy: while InfluxDB ingests one
 * delivery's bodies, the next delivery is encoded. Safe because a write is idempotent (a
 * re-written point changes nothing), so re-offering a later delivery after an earlier one
 * failed costs only the request.
 */
const PIPELINE = 2;

export interface InfluxWriter extends SpoolConsumer, Component {
  /**
   * What was written so far: measurements, tag keys, fields with types, within the bounds of
   * `influxdb.catalog` (names beyond them are written, not recorded).
   */
  catalog(): MeasurementModel[];
  /** Most recently refused dead letters first; `before` continues after a page. */
  deadLetters(limit?: number, before?: DeadLetterCursor): DeadLetter[];
  /** The dead-letter table's size, its bounds, and what the bounds pruned since start. */
  deadLetterStats(): DeadLetterStats & { limits: typeof DEAD_LETTER_LIMITS };
  /**
   * Settles when the start-time `create_database` attempt has (at once without it). `start()`
   * does not wait for it, so an InfluxDB that is slow or unreachable never holds up the inputs;
   * deliveries wait for it, so the first write does not race the creation.
   */
  ready(): Promise<void>;
}

export interface InfluxWriterOptions {
  store: Store;
  /** [0, 1) source for retry jitter; tests pin it. */
  random?: () => number;
  /** How often dead letters past `dead_letters.max_age` are pruned (default a minute). */
  pruneIntervalMs?: number;
}

/**
 * Whether a refusal says the server dropped all `n` points of the body: 1.x and 2.x end a
 * partial write's message with ` dropped=N` (points refused at write time; lines that did not
 * parse are not counted, so a body with those never matches and is bisected as before).
 */
function droppedAll(message: string, n: number): boolean {
  const m = / dropped=(\d+)$/.exec(message.trimEnd());
  return m !== null && Number(m[1]) === n;
}

/** The first statement error of a `/query` answer (`{"results":[{"error"}]}`), if any. */
function statementError(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { error?: unknown; results?: { error?: unknown }[] };
    if (typeof json.error === 'string') return json.error;
    if (!Array.isArray(json.results)) return undefined;
    for (const r of json.results) if (typeof r?.error === 'string') return r.error;
  } catch {
    // not JSON: nothing says the statement failed
  }
  return undefined;
}

export function createInfluxWriter(
  config: InfluxdbConfig,
  schema: SchemaConfig,
  deps: Deps,
  opts: InfluxWriterOptions,
): InfluxWriter {
  const { store } = opts;
  const plan = compileSchema(schema);
  const encoder = lineEncoder(plan);
  const timeoutMs = parseDuration(config.timeout);
  const delay = {
    minMs: parseDuration(config.min_retry_delay),
    maxMs: parseDuration(config.max_retry_delay),
    ...(opts.random ? { random: opts.random } : {}),
  };
  const base = config.url.endsWith('/') ? config.url : `${config.url}/`;
  const writeUrl =
    config.api === 'v2'
      ? new URL(
          `api/v2/write?${new URLSearchParams({
            ...(config.org ? { org: config.org } : {}),
            bucket: config.bucket ?? config.database,
            precision: 'ns',
          })}`,
          base,
        )
      : new URL(
          `write?${new URLSearchParams({
            db: config.database,
            ...(config.retention_policy ? { rp: config.retention_policy } : {}),
            precision: 'ns',
          })}`,
          base,
        );
  const authHeader: Record<string, string> =
    config.api === 'v1' && config.username && config.password
      ? {
          authorization: `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`,
        }
      : config.token
        ? { authorization: `Token ${config.token}` }
        : {};
  const target =
    config.api === 'v2'
      ? `bucket ${config.bucket ?? config.database}`
      : `database ${config.database}`;
  const gzipOn = gzipBodies(config.gzip, config.url);

  const m = {
    points: counter(
      deps.metrics,
      'fleetline_influxdb_points_written_total',
      'points acknowledged by InfluxDB',
      ['measurement'],
    ),
    requests: counter(
      deps.metrics,
      'fleetline_influxdb_requests_total',
      'write requests by answer',
      ['status'],
    ),
    retries: counter(
      deps.metrics,
      'fleetline_influxdb_retries_total',
      'write requests retried after a delay',
      ['reason'],
    ),
    deadLetters: counter(
      deps.metrics,
      'fleetline_influxdb_dead_letters_total',
      'lines moved to the dead-letter table',
      ['measurement'],
    ),
    bisects: counter(
      deps.metrics,
      'fleetline_influxdb_bisect_requests_total',
      'requests spent locating refused lines',
    ),
    created: counter(
      deps.metrics,
      'fleetline_influxdb_database_created_total',
      'CREATE DATABASE issued by the writer',
    ),
    latency: histogram(
      deps.metrics,
      'fleetline_influxdb_write_duration_seconds',
      'write request latency',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
  };

  const catalogLimits = config.catalog ?? CATALOG_LIMITS;
  const catalog = createCatalog(() => store.db, {
    limits: {
      maxMeasurements: catalogLimits.max_measurements,
      maxFields: catalogLimits.max_fields,
      maxTagKeys: catalogLimits.max_tag_keys,
    },
    deps,
  });
  const deadLimits = config.dead_letters ?? DEAD_LETTER_LIMITS;
  const dead = createDeadLetters(
    () => store.db,
    {
      maxRows: deadLimits.max_rows,
      maxBytes: deadLimits.max_bytes,
      maxAgeMs: parseDuration(deadLimits.max_age),
    },
    deps,
  );
  let pruneTimer: NodeJS.Timeout | undefined;
  const poster = createPoster({ maxSockets: config.concurrency + 1, timeoutMs });
  const stopController = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  let running = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      const signal = stopController.signal;
      if (signal.aborted) return reject(new InfluxWriterStoppedError());
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InfluxWriterStoppedError());
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });

  const post = async (
    url: URL,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<WriteOutcome> => {
    const started = performance.now();
    try {
      const res = await poster.post(
        url,
        { ...headers, ...authHeader },
        body,
        stopController.signal,
      );
      return classifyResponse(res.status, res.body, res, deps.clock.now());
    } catch (err) {
      if (stopController.signal.aborted) throw new InfluxWriterStoppedError();
      const e = err as Error & { code?: string };
      if (e instanceof RequestTimeoutError)
        return { kind: 'unavailable', status: 'timeout', message: e.message };
      return { kind: 'unavailable', status: 'network', message: e.code ?? e.message };
    } finally {
      m.latency.observe((performance.now() - started) / 1000);
    }
  };

  /**
   * v1: CREATE DATABASE (idempotent on the server). Returns an error text or undefined. `/query`
   * answers 200 even when the statement failed, with the error in `results[].error` (InfluxDB
   * 2.x's v1 API says `not implemented: CREATE DATABASE`): only a 2xx without one is success.
   */
  const createDatabase = async (): Promise<string | undefined> => {
    const q = `CREATE DATABASE "${config.database.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    let res: { status: number; body: string };
    try {
      res = await poster.post(
        new URL('query', base),
        { 'content-type': 'application/x-www-form-urlencoded', ...authHeader },
        Buffer.from(new URLSearchParams({ q }).toString()),
        stopController.signal,
      );
    } catch (err) {
      if (stopController.signal.aborted) throw new InfluxWriterStoppedError();
      const e = err as Error & { code?: string };
      return e instanceof RequestTimeoutError ? e.message : (e.code ?? e.message);
    }
    if (res.status < 200 || res.status >= 300)
      return `${res.status} ${serverMessage(res.body) || `HTTP ${res.status}`}`;
    const failed = statementError(res.body);
    if (failed !== undefined) return `${res.status} ${failed}`;
    m.created.inc();
    deps.log.info(
      { event: 'influxdb_database_created', database: config.database },
      `created InfluxDB database ${config.database}`,
    );
    return undefined;
  };

  /**
   * v2: POST /api/v2/buckets for the configured bucket, in the organisation named by
   * `influxdb.org` (or the token's only organisation), keeping its default retention. A 422
   * "conflict" means it exists already, which is what we wanted. Returns an error text or
   * undefined. These admin calls are rare, so they use fetch rather than the write poster.
   */
  const createBucket = async (): Promise<string | undefined> => {
    const bucket = config.bucket ?? config.database;
    const signal = AbortSignal.any([stopController.signal, AbortSignal.timeout(timeoutMs)]);
    const headers = { ...authHeader, accept: 'application/json' };
    const errorOf = async (res: Response) => {
      const text = await res.text();
      try {
        return {
          code: '',
          message: text,
          ...(JSON.parse(text) as { code?: string; message?: string }),
        };
      } catch {
        return { code: '', message: text };
      }
    };
    try {
      const query = config.org ? `?${new URLSearchParams({ org: config.org })}` : '';
      const orgsRes = await fetch(new URL(`api/v2/orgs${query}`, base), { headers, signal });
      if (!orgsRes.ok)
        return `${orgsRes.status} looking up the organisation: ${(await errorOf(orgsRes)).message}`;
      const { orgs = [] } = (await orgsRes.json()) as { orgs?: { id: string; name: string }[] };
      const org = config.org
        ? orgs.find((o) => o.name === config.org)
        : orgs.length === 1
          ? orgs[0]
          : undefined;
      if (!org)
        return config.org
          ? `organisation ${config.org} not found`
          : `the token sees ${orgs.length} organisations; set influxdb.org`;
      const res = await fetch(new URL('api/v2/buckets', base), {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ orgID: org.id, name: bucket, retentionRules: [] }),
        signal,
      });
      if (res.status === 201) {
        m.created.inc();
        deps.log.info(
          { event: 'influxdb_bucket_created', bucket, org: org.name },
          `created InfluxDB bucket ${bucket} in organisation ${org.name}`,
        );
        return undefined;
      }
      const err = await errorOf(res);
      if (res.status === 422 && err.code === 'conflict') return undefined;
      return `${res.status} creating bucket ${bucket}: ${err.message}`;
    } catch (err) {
      return (err as Error).message;
    }
  };

  /** Creates the configured database (v1) or bucket (v2); an error text or undefined. */
  const createTarget = () => (config.api === 'v2' ? createBucket() : createDatabase());

  const bodyOf = async (raw: Buffer): Promise<[Buffer, Record<string, string>]> => {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (!gzipOn) return [raw, headers];
    // Level 1: line protocol compresses ~6× even at the fastest level, and the CPU is better
    // spent on the server that shares this (often small) machine.
    const zipped = await gzip(raw, { level: zlibConstants.Z_BEST_SPEED });
    return [zipped, { ...headers, 'content-encoding': 'gzip' }];
  };

  const logRetry = (
    outcome: Exclude<WriteOutcome, { kind: 'written' | 'rejected' }>,
    attempt: number,
    waitMs: number,
  ) => {
    const fields = {
      event: 'influxdb_write_retry',
      status: outcome.status,
      attempt,
      delayMs: waitMs,
      target,
      reason: outcome.message,
    };
    if (outcome.kind === 'misconfigured') {
      const hint =
        outcome.status === 401 || outcome.status === 403
          ? 'check influxdb.username/password/token'
          : outcome.status === 404
            ? `check that the ${target} exists${config.create_database ? '' : ' (or set influxdb.create_database)'}`
            : 'check the influxdb section of the configuration';
      deps.log.error(
        fields,
        `InfluxDB refused the write request (${outcome.status}: ${outcome.message}); ${hint}. Data is kept and retried`,
      );
    } else if (attempt === 1 || attempt % 10 === 0) {
      deps.log.warn(
        fields,
        `InfluxDB unavailable (${outcome.status}: ${outcome.message}); retrying`,
      );
    }
  };

  /**
   * Writes the body's lines [span] until every line is acknowledged or dead-lettered; adds
   * the indexes of dead-lettered lines to `rejected`.
   */
  const writeSpan = async (
    lines: LineBody,
    span: Span,
    rejected: Set<number>,
    bisecting: boolean,
  ): Promise<void> => {
    let attempt = 0;
    let retriedAfterCreate = false;
    for (;;) {
      if (stopController.signal.aborted) throw new InfluxWriterStoppedError();
      const [body, headers] = await bodyOf(lines.bytes(span));
      if (bisecting) m.bisects.inc();
      const outcome = await post(writeUrl, headers, body);
      m.requests.inc({ status: String(outcome.status) });
      if (outcome.kind === 'written') {
        if (attempt > 0)
          deps.log.info(
            { event: 'influxdb_write_recovered', attempts: attempt + 1, target },
            'InfluxDB accepted the write again',
          );
        for (const [measurement, n] of lines.countByMeasurement(span, rejected))
          m.points.inc({ measurement }, n);
        return;
      }
      if (outcome.kind === 'rejected') {
        // One line, or a span the server says it dropped every point of (a field whose type
        // changed refuses whole bodies; bisecting those would cost two requests per line).
        if (span.hi - span.lo === 1 || droppedAll(outcome.message, span.hi - span.lo)) {
          const byMeasurement = new Map<string, number>();
          const refused: { line: string; measurement: string }[] = [];
          for (let i = span.lo; i < span.hi; i++) {
            rejected.add(i);
            const measurement = lines.measurement(i);
            refused.push({ line: lines.line(i), measurement });
            m.deadLetters.inc({ measurement });
            byMeasurement.set(measurement, (byMeasurement.get(measurement) ?? 0) + 1);
          }
          // One transaction, and one pass of the table's bounds, per refusal.
          dead.addAll(refused, outcome.message, deps.clock.now());
          // One warning per refusal, not per line: a whole refused body is thousands of lines.
          deps.log.warn(
            {
              event: 'influxdb_lines_dead_lettered',
              status: outcome.status,
              lines: span.hi - span.lo,
              measurements: Object.fromEntries(byMeasurement),
              reason: outcome.message,
            },
            'InfluxDB refused lines for good; moved to the dead-letter table',
          );
          return;
        }
        const mid = span.lo + Math.ceil((span.hi - span.lo) / 2);
        await writeSpan(lines, { lo: span.lo, hi: mid }, rejected, true);
        await writeSpan(lines, { lo: mid, hi: span.hi }, rejected, true);
        return;
      }
      attempt++;
      if (outcome.kind === 'misconfigured' && outcome.status === 404 && config.create_database) {
        const failed = await createTarget();
        // Write again at once after creating the target, but only once: if the write still
        // finds nothing, creating "succeeded" without helping, and retrying without a delay
        // would loop as fast as the server answers.
        if (failed === undefined && !retriedAfterCreate) {
          retriedAfterCreate = true;
          continue;
        }
      }
      const waitMs = retryDelay(
        attempt,
        delay,
        outcome.kind === 'unavailable' ? outcome.retryAfterMs : undefined,
      );
      m.retries.inc({ reason: String(outcome.status) });
      logRetry(outcome, attempt, waitMs);
      await sleep(waitMs);
    }
  };

  const deadLetterEntry = (entry: Entry, reason: string) => {
    const line = JSON.stringify(entry, (_k, v: unknown) =>
      typeof v === 'bigint'
        ? v.toString()
        : v instanceof Uint8Array
          ? Buffer.from(v).toString('base64')
          : v,
    );
    dead.add(line, entry.tag, reason, deps.clock.now());
    m.deadLetters.inc({ measurement: entry.tag });
    deps.log.warn(
      { event: 'influxdb_entry_unencodable', tag: entry.tag, reason },
      'entry cannot be written to InfluxDB; moved to the dead-letter table',
    );
  };

  // `concurrency` bounds the bodies in flight across every deliver call: the spool keeps
  // `PIPELINE` calls going at once, so one call's bodies are encoded while the previous
  // call's are being written. (Before pipelining, a delivery was cut into `concurrency`
  // smaller bodies to get that overlap; full `batch_lines` bodies cost InfluxDB less per
  // point — docs/BENCHMARKS.md.)
  let slotsInUse = 0;
  const slotWaiters: (() => void)[] = [];
  const requestSlot = async () => {
    while (slotsInUse >= config.concurrency) await new Promise<void>((r) => slotWaiters.push(r));
    slotsInUse++;
  };
  const releaseSlot = () => {
    slotsInUse--;
    slotWaiters.shift()?.();
  };

  const deliverNow = async (batches: readonly SpooledBatch[]): Promise<void> => {
    const bodyLines = config.batch_lines;
    // Points that may add to the catalog, by body, line and origin; their tag and field maps
    // are rebuilt (toPoint) once the lines are written, and only for those still novel then:
    // in a new database every point of the first call is novel, but few shapes are distinct.
    const novel: {
      body: { lines: LineBody; rejected: Set<number> };
      index: number;
      batch: SpooledBatch;
      entry: number;
      shape: PointShape;
    }[] = [];
    const inflightSpans = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    let body = { lines: new LineBody(), rejected: new Set<number>() };
    let chars = 0;

    const dispatch = async (full: { lines: LineBody; rejected: Set<number> }) => {
      // The line strings can go now; the bytes wait for a request slot.
      full.lines.seal();
      await requestSlot();
      if (failure) {
        releaseSlot();
        return;
      }
      const span = { lo: 0, hi: full.lines.count };
      const p = writeSpan(full.lines, span, full.rejected, false).catch((err: unknown) => {
        // The first failure (stop) ends the call; the other spans see the abort themselves.
        failure ??= { err };
      });
      inflightSpans.add(p);
      void p.finally(() => {
        inflightSpans.delete(p);
        releaseSlot();
      });
      // Let the request leave before the next body is encoded (encoding is synchronous).
      await new Promise<void>((resolve) => setImmediate(resolve));
    };

    for (const b of batches) {
      if (failure) break;
      const { entries } = b.batch;
      for (let i = 0; i < entries.length; i++) {
        const line = encoder.encode(entries[i]!, b.firstEntrySeq + i);
        if (typeof line !== 'string') {
          deadLetterEntry(line.entry, line.reason);
          continue;
        }
        // Read the shape now: the other delivery in flight may encode while this one awaits.
        const shape = encoder.shape;
        const measurement = shape.measurement;
        const novelShape = catalog.isNovelShape(shape) ? copyShape(shape) : undefined;
        // Sized in UTF-16 units, as before: a body's limit, not an exact byte count.
        const size = line.length + 1;
        if (
          body.lines.count > 0 &&
          (body.lines.count >= bodyLines || chars + size > MAX_BODY_BYTES)
        ) {
          const full = body;
          body = { lines: new LineBody(), rejected: new Set<number>() };
          chars = 0;
          await dispatch(full);
          if (failure) break;
        }
        if (novelShape)
          novel.push({ body, index: body.lines.count, batch: b, entry: i, shape: novelShape });
        body.lines.push(line, measurement);
        chars += size;
      }
    }
    if (!failure && body.lines.count > 0) await dispatch(body);
    await Promise.all([...inflightSpans]);
    if (failure) throw failure.err;
    const now = deps.clock.now();
    for (const { body, index, batch, entry, shape } of novel) {
      // Noting a point whose names are all known by now (or beyond the catalog's bounds)
      // would add nothing.
      if (body.rejected.has(index) || !catalog.isNovelShape(shape)) continue;
      const p = toPoint(batch.batch.entries[entry]!, batch.firstEntrySeq + entry, plan);
      if ('line' in p) catalog.note(p.measurement, p.tags, p.fields, now);
    }
    catalog.report();
  };

  /** The start-time creation attempt; deliveries wait for it (see `ready`). */
  let initialCreate: Promise<void> = Promise.resolve();

  const lifecycle = component('influxdb', {
    start() {
      store.migrate('influxdb', INFLUXDB_MIGRATIONS);
      catalog.load();
      dead.load();
      // Age pruning must not wait for the next refusal: an idle table ages too.
      pruneTimer = setInterval(() => {
        if (!store.isOpen()) return;
        try {
          dead.prune(deps.clock.now());
        } catch (err) {
          deps.log.error(
            { event: 'influxdb_dead_letters_prune_failed', err },
            'could not prune the dead-letter table; will try again',
          );
        }
      }, opts.pruneIntervalMs ?? 60_000);
      pruneTimer.unref();
      running = true;
      if (config.create_database) {
        initialCreate = createTarget().then(
          (failed) => {
            if (failed !== undefined)
              deps.log.warn(
                { event: 'influxdb_create_database_failed', target, reason: failed },
                `could not create InfluxDB ${target} at start (${failed}); writes will retry`,
              );
          },
          () => undefined,
        );
        const settled = initialCreate;
        inflight.add(settled);
        void settled.then(() => inflight.delete(settled));
      }
    },
    async stop() {
      running = false;
      clearInterval(pruneTimer);
      stopController.abort();
      await Promise.allSettled([...inflight]);
      poster.destroy();
    },
  });

  return {
    ...lifecycle,
    name: 'influxdb',
    pipeline: PIPELINE,
    deliver(batches) {
      if (!running) return Promise.reject(new InfluxWriterStoppedError());
      const p = initialCreate.then(() => deliverNow(batches));
      inflight.add(p);
      p.then(
        () => inflight.delete(p),
        () => inflight.delete(p),
      );
      return p;
    },
    ready: () => initialCreate,
    catalog: () => catalog.models(),
    deadLetters: (limit, before) => dead.list(limit, before),
    deadLetterStats: () => ({
      ...dead.stats(),
      limits: {
        max_rows: deadLimits.max_rows,
        max_bytes: deadLimits.max_bytes,
        max_age: deadLimits.max_age,
      },
    }),
  };
}
