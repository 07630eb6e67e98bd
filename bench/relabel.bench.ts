/**
 * Benchmark: `relabel()` with 5 rules per record on fleet label sets (role, version, slot, az
 * plus two per-instance labels), the budget being a share of the ≥ 2,000,000 records/s goal for
 * identity + registry lookup + relabel together. Scenarios:
 *
 *   typical     replace (constant), replace (regex groups), lowercase, drop (no match), labeldrop
 *   no-op       5 rules that match nothing / change nothing (returns the input object)
 *   hashmod     5 hashmod rules (md5 per rule: the expensive action)
 *   cached      `typical` through createCachedRelabel on frozen label objects (the registry
 *               hands out one frozen object per instance, so records of an instance repeat it)
 *   baseline    copying the label object once (Object.assign), for a ratio on this machine
 *
 * Run: npx tsx bench/relabel.bench.ts   (one run takes ~20 s on a loaded 2-core machine)
 */
import { cpus } from 'node:os';
import type { Labels } from '../src/core/entry.ts';
import { createCachedRelabel } from '../src/relabel/cached-relabel.ts';
import { relabel } from '../src/relabel/relabel.ts';
import { type CompiledRule, compileRules } from '../src/relabel/rules.ts';

const N = Number(process.env.N ?? 1_000_000);
const ROUNDS = 3;

const inputs: Labels[] = [];
for (let i = 0; i < 1024; i++) {
  inputs.push({
    role: ['Web', 'API', 'Worker'][i % 3]!,
    version: `1.${i % 5}.${i % 7}`,
    slot: String(i % 16),
    az: `eu-west-1${'abc'[i % 3]}`,
    instance_id: `i-0${(0x1000000 + i).toString(16)}`,
    host: `ip-10-0-${i % 256}-${i % 200}`,
  });
}

const typical = compileRules([
  { target_label: 'env', replacement: 'prod' },
  {
    source_labels: ['version'],
    regex: '(\\d+)\\.(\\d+)\\..*',
    target_label: 'minor',
    replacement: '$1.$2',
  },
  { action: 'lowercase', source_labels: ['role'], target_label: 'role' },
  { action: 'drop', source_labels: ['role', 'az'], regex: 'canary;.*' },
  { action: 'labeldrop', regex: 'instance_id|host' },
]);
const frozenInputs = inputs.map((l) => Object.freeze({ ...l }));
const cached = createCachedRelabel(typical);

const scenarios: Record<string, CompiledRule[] | 'baseline' | 'cached'> = {
  typical,
  'no-op': compileRules([
    { action: 'keep', source_labels: ['role'], regex: '.+' },
    { action: 'drop', source_labels: ['role'], regex: 'canary' },
    { source_labels: ['missing'], regex: 'x(.*)', target_label: 'y' },
    { action: 'labeldrop', regex: 'tmp_.*' },
    { action: 'keep', source_labels: ['az'], regex: 'eu-.*' },
  ]),
  hashmod: compileRules(
    [1, 2, 3, 4, 5].map((m) => ({
      action: 'hashmod',
      source_labels: ['instance_id'],
      target_label: `shard${m}`,
      modulus: 2 ** m,
    })),
  ),
  cached: 'cached',
  baseline: 'baseline',
};

function run(rules: CompiledRule[] | 'baseline' | 'cached'): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const labels = inputs[i & 1023]!;
    const out =
      rules === 'baseline'
        ? Object.assign({}, labels)
        : rules === 'cached'
          ? cached(frozenInputs[i & 1023]!)
          : relabel(labels, rules);
    if (out) sink++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink);
  return N / seconds;
}

console.log(
  `relabel benchmark — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores`,
);
console.log(
  `${N.toLocaleString()} records per round, best of ${ROUNDS} rounds, 1,024 distinct label sets\n`,
);
const results: Record<string, number> = {};
for (const [name, rules] of Object.entries(scenarios)) {
  run(rules); // warm-up
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) best = Math.max(best, run(rules));
  results[name] = best;
  console.log(
    `${name.padEnd(10)} ${Math.round(best).toLocaleString().padStart(12)} records/s  ${(1e9 / best).toFixed(0).padStart(5)} ns/record`,
  );
}
const base = results.baseline!;
console.log(
  `\nratio to one object copy: typical ${(base / results.typical!).toFixed(1)}×, no-op ${(base / results['no-op']!).toFixed(1)}×, hashmod ${(base / results.hashmod!).toFixed(1)}×, cached ${(base / results.cached!).toFixed(1)}×`,
);
console.log(
  `cached vs uncached typical: ${(results.cached! / results.typical!).toFixed(1)}× faster`,
);
