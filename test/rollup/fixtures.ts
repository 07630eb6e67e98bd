/** Builders for rollup tests: entries as the fleet stage hands them on, and a seeded PRNG. */

import type { RollupConfig } from '../../src/config/schema.ts';
import type { Entry, RecordMap } from '../../src/core/entry.ts';
import type { SpooledBatch } from '../../src/spool/contract.ts';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

export const ROLLUP_DEFAULTS: RollupConfig = {
  interval: '10s',
  numeric_fields: ['reqtime'],
  retention: '7d',
  lateness: '2m',
  grace: '2s',
};

export function entry(
  ms: number,
  record: RecordMap,
  labels: { role?: string; version?: string } = { role: 'web', version: '1.0' },
  tag = 'app.access',
  instanceId = 'i-0aaa',
): Entry {
  const sec = Math.floor(ms / 1000);
  return {
    tag,
    sec,
    nsec: (ms - sec * 1000) * 1_000_000,
    record,
    labels: { ...labels },
    instanceId,
  };
}

/** Wraps entries into spooled batches of `size`, numbering from `firstSeq`. */
export function spooled(entries: Entry[], size: number, firstSeq = 1): SpooledBatch[] {
  const out: SpooledBatch[] = [];
  for (let i = 0; i < entries.length; i += size) {
    const seq = firstSeq + out.length;
    out.push({
      seq,
      firstEntrySeq: i,
      batch: { entries: entries.slice(i, i + size), origin: { input: 'forward' }, receivedAt: T0 },
    });
  }
  return out;
}

/** mulberry32: small, seeded, good enough to make test data reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}
