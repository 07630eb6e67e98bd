/**
 * The one test command (`npm test` = `vitest run`), also what CI runs via `.ci/run`.
 *
 * Reliability on the shared 2-core machine comes from the tests waiting for the condition that
 * matters, not from tight timeouts: the timeouts here are ceilings for a stalled worker, and
 * `expect.poll` gets the same generous ceiling (it returns as soon as the value matches).
 */

import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files whose length is set by wall-clock scenarios (outages, crashes, simulated releases), not
 * by CPU. Started first so they overlap the many short files instead of trailing at the end; a
 * clean checkout has no duration cache, and vitest's fallback order (largest file first) would
 * start the minute-long outage test last.
 */
const LONG_RUNNING = [
  'test/integration/pipeline-outage.test.ts',
  'test/integration/cli-serve.test.ts',
  'test/integration/generate-pipeline.test.ts',
  'test/integration/simulate.test.ts',
];

class LongRunningFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // `--sequence.shuffle` keeps shuffling files too (a custom sequencer replaces vitest's own
    // random one), with the seed vitest prints, so a failing order can be replayed.
    const { shuffle, seed } = this.ctx.config.sequence;
    if (shuffle) return seededShuffle(files, seed);
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_RUNNING.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? LONG_RUNNING.length : i;
    };
    // Array.prototype.sort is stable: everything else keeps vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

function seededShuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/influxdb-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 15_000, interval: 20 } },
    // The machine has two cores and the integration tests start real servers.
    maxWorkers: 2,
    sequence: { sequencer: LongRunningFirst },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
