/**
 * WAL checkpoints off the event loop.
 *
 * In WAL mode every commit appends pages to the `-wal` file, and by default the committing
 * connection copies them back into the database file (and fsyncs it) once the WAL passes 1,000
 * pages. For the spool, whose batches are blobs of hundreds of KB, that happened every ~80
 * commits and held the event loop for ~18 ms each time — every Forward connection and HTTP
 * request waited — and took ~5 % of the ack path's CPU (docs/BENCHMARKS.md).
 *
 * Here a worker thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)` every
 * `intervalMs`: PASSIVE never waits for readers or writers and takes no write lock, so the
 * service's connection is never blocked by it. The service's connection keeps an automatic
 * checkpoint at `safetyNetPages` instead of 1,000. Under steady writes that one is what lets the
 * WAL start over from its beginning (the worker's checkpoints seldom find every frame copied
 * just as a commit starts), but by then the worker has copied most frames, so it has little
 * left to do; and it bounds the WAL if the worker falls behind or dies.
 *
 * The worker is a few lines of plain JavaScript evaluated from a string, so that it runs the
 * same under tsx, vitest and plain node; better-sqlite3 is resolved by the main thread and
 * passed in.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Db } from './sqlite.ts';

export interface CheckpointerOptions {
  /** How often the worker checkpoints. */
  intervalMs?: number;
  /** The service connection's own automatic checkpoint threshold, in pages. */
  safetyNetPages?: number;
  log?: Logger;
}

export interface Checkpointer {
  /** Checkpoints done by the worker that moved at least one page. */
  readonly checkpoints: number;
  /** Whether the worker is running. */
  readonly running: boolean;
  stop(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
const run = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.checkpointed > 0) parentPort.postMessage({ checkpointed: r.checkpointed, log: r.log });
  } catch (err) {
    // SQLITE_BUSY: another checkpoint is running; the next tick tries again.
    if (err.code !== 'SQLITE_BUSY') throw err;
  }
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

const DEFAULT_INTERVAL_MS = 50;
/** 64 MiB of 16 KiB pages. */
const DEFAULT_SAFETY_NET_PAGES = 4096;
/** What SQLite uses when nobody sets it. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** Starts checkpointing `db`'s file (`path`) in a worker thread. */
export function startCheckpointer(
  db: Db,
  path: string,
  opts: CheckpointerOptions = {},
): Checkpointer {
  const safetyNet = opts.safetyNetPages ?? DEFAULT_SAFETY_NET_PAGES;
  db.pragma(`wal_autocheckpoint = ${safetyNet}`);
  let checkpoints = 0;
  let running = true;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path,
      sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs: opts.intervalMs ?? DEFAULT_INTERVAL_MS,
    },
  });
  // The worker alone must not keep the process alive.
  worker.unref();
  worker.on('message', () => {
    checkpoints++;
  });
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      running = false;
      resolve();
    });
  });
  worker.on('error', (err) => {
    // Back to SQLite's usual automatic checkpoints on the service's connection.
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    opts.log?.warn(
      { event: 'checkpointer_failed', err: err.message },
      'background WAL checkpoints stopped; the service connection checkpoints again itself',
    );
  });

  return {
    get checkpoints() {
      return checkpoints;
    },
    get running() {
      return running;
    },
    async stop() {
      if (!running) return;
      // Referenced again: an unreferenced worker's exit would not keep the process alive for
      // the rest of a shutdown awaiting it (the process would just end mid-stop).
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
