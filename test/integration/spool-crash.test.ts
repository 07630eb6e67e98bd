/**
 * kill -9 in the middle of a stream of acknowledged appends (and mid-delivery) loses nothing
 * acknowledged, and replays what a consumer had not confirmed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpool, type DurableSpool } from '../../src/spool/spool.ts';
import { createStore, type Store } from '../../src/store/sqlite.ts';
import { testDeps } from '../helpers/deps.ts';
import {
  batchId,
  type RecordingSpoolConsumer,
  recordingSpoolConsumer,
  spoolConfig,
} from '../helpers/spool-fixtures.ts';

const CHILD = join(import.meta.dirname, '../helpers/spool-child.ts');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Killed {
  acked: number[];
  lines: string[];
}

/** Runs the child until `until(lines)` holds, then SIGKILLs it. */
function runAndKill(
  dir: string,
  mode: string,
  until: (lines: string[]) => boolean,
): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child never reached the kill point; stderr: ${stderr}`));
    }, 20_000);
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    child.stdout!.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      if (!killed && until(lines)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // 'close' comes after the process exited *and* its pipes were drained.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`child exited on its own (${code}); stderr: ${stderr}`));
        return;
      }
      if (partial) lines.push(partial); // a torn last line is not an ack; filtered below
      const acked = lines.filter((l) => /^ack \d+$/.test(l)).map((l) => Number(l.slice(4)));
      resolve({ acked, lines });
    });
  });
}

async function reopen(
  dir: string,
  consumer: RecordingSpoolConsumer,
): Promise<{ store: Store; spool: DurableSpool; present: number }> {
  const store = createStore(dir);
  await store.start();
  // Counted before the spool starts: its delivery loop may drain everything during start().
  const present = store.db.prepare('SELECT count(*) FROM spool_batches').pluck().get() as number;
  const spool = createSpool(spoolConfig(), testDeps(), store);
  spool.register(consumer);
  await spool.start();
  cleanup.push(async () => {
    await spool.stop();
    await store.stop();
  });
  return { store, spool, present };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetline-spool-crash-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('spool crash safety', () => {
  it('after kill -9 mid-stream, every acknowledged batch is delivered exactly once per seq', async () => {
    const dir = tempDir();
    const { acked } = await runAndKill(dir, 'append', (lines) => lines.length > 400);
    expect(acked.length).toBeGreaterThan(300);

    const sink = recordingSpoolConsumer('sink');
    const { present } = await reopen(dir, sink);
    expect(present).toBeGreaterThanOrEqual(acked.length);
    await sink.waitForConfirmed(present);

    const seqs = sink.confirmed.map((b) => b.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    const ids = sink.confirmed.map((b) => batchId(b.batch));
    expect(new Set(ids).size).toBe(ids.length);
    const delivered = new Set(ids);
    const missing = acked.filter((id) => !delivered.has(id));
    expect(missing).toEqual([]);
    // Seqs are contiguous and entry sequence numbers line up after the crash.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    let entrySeq = 0;
    for (const b of sink.confirmed) {
      expect(b.firstEntrySeq).toBe(entrySeq);
      entrySeq += b.batch.entries.length;
    }
  });

  it('after kill -9 during a delivery, the unconfirmed batches are replayed to that consumer', async () => {
    const dir = tempDir();
    let hang: [number, number] | undefined;
    let acksAfterHang = 0;
    const { acked } = await runAndKill(dir, 'deliver', (lines) => {
      const last = lines[lines.length - 1]!;
      if (!hang) {
        const h = lines.find((l) => l.startsWith('hang '));
        if (h) hang = h.split(' ').slice(1).map(Number) as [number, number];
      } else if (last.startsWith('ack ')) acksAfterHang++;
      return hang !== undefined && acksAfterHang > 100;
    });
    expect(hang).toBeDefined();
    const [firstHung, lastHung] = hang!;

    const sink = recordingSpoolConsumer('sink');
    const { present } = await reopen(dir, sink);
    await sink.waitForConfirmed(present);
    // Everything up to the hung delivery was confirmed (and deleted); the hung batches come again.
    expect(sink.offered[0]![0]!.seq).toBe(firstHung);
    const seqs = sink.confirmed.map((b) => b.seq);
    expect(seqs).toContain(lastHung);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => firstHung + i));
    // Every ack either was confirmed before the hang or is in the replay.
    const replayed = new Set(sink.confirmed.map((b) => batchId(b.batch)));
    const confirmedBefore = firstHung - 1;
    const notReplayed = acked.filter((id) => !replayed.has(id));
    expect(notReplayed.length).toBeLessThanOrEqual(confirmedBefore);
  });
});
