/** A `Consumer` that records every batch it accepts; it can be told to fail or to stall. */
import type { Consumer } from '../../src/core/consumer.ts';
import type { Batch, Entry } from '../../src/core/entry.ts';

export interface RecordingSink extends Consumer {
  batches: Batch[];
  entries(): Entry[];
  /** The next consume calls reject with this error until cleared. */
  failWith(err: Error | undefined): void;
  /** Consume calls wait until `release()` is called. */
  stall(): void;
  release(): void;
  /** Resolves once at least `n` entries have been accepted. */
  waitForEntries(n: number, timeoutMs?: number): Promise<Entry[]>;
  /** Consume calls currently held by `stall()`. */
  stalled(): number;
  /** Resolves once at least `n` consume calls are held by `stall()` (the request got here). */
  waitForStalled(n: number, timeoutMs?: number): Promise<void>;
}

export function recordingSink(): RecordingSink {
  const batches: Batch[] = [];
  let failure: Error | undefined;
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const waiters: { n: number; resolve: () => void }[] = [];
  const count = () => batches.reduce((s, b) => s + b.entries.length, 0);
  let held = 0;
  const stallWaiters: { n: number; resolve: () => void }[] = [];
  return {
    batches,
    entries: () => batches.flatMap((b) => b.entries),
    async consume(batch) {
      if (gate) {
        held++;
        for (const w of stallWaiters.splice(0))
          (held >= w.n ? w.resolve : () => stallWaiters.push(w))();
        await gate.promise.finally(() => {
          held--;
        });
      }
      if (failure) throw failure;
      batches.push(batch);
      const c = count();
      for (const w of waiters.splice(0)) (c >= w.n ? w.resolve : () => waiters.push(w))();
    },
    failWith(err) {
      failure = err;
    },
    stall() {
      let open!: () => void;
      const promise = new Promise<void>((r) => {
        open = r;
      });
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
    stalled: () => held,
    waitForStalled(n, timeoutMs = 10_000) {
      if (held >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${n} stalled consume calls, have ${held}`)),
          timeoutMs,
        );
        stallWaiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    waitForEntries(n, timeoutMs = 10_000) {
      if (count() >= n) return Promise.resolve(batches.flatMap((b) => b.entries));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${n} entries, have ${count()}`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(batches.flatMap((b) => b.entries));
          },
        });
      });
    },
  };
}
