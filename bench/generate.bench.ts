/**
 * Benchmark: the generators at fleet scale. How long `fleetline dashboards` (all dashboards,
 * provisioning and alert rules, serialised) and the inventory renderings take for a large
 * fleet, and the regenerator's per-poll cost (the fingerprint it computes every few seconds).
 * Goals: full generation for 200 roles well under 5 s; a poll fingerprint under 10 ms;
 * Ansible `--list` for 10,000 instances under 200 ms.
 *
 * Run: npx tsx bench/generate.bench.ts   (one run takes ~10 s)
 */
import { cpus } from 'node:os';
import { generateArtefacts } from '../src/generate/artefacts.ts';
import { modelFingerprint } from '../src/generate/dashboard-regenerator.ts';
import { ansibleInventory, hostList, sshConfig } from '../src/generate/inventory.ts';
import type { GenerationModel } from '../src/generate/model.ts';

function fleet(roles: number, instancesPerRole: number, measurements: number): GenerationModel {
  const rollupFields: Record<string, 'integer' | 'float'> = { events: 'integer' };
  for (const l of ['error', 'warn', 'info']) rollupFields[`level_${l}`] = 'integer';
  for (const c of ['2xx', '4xx', '5xx']) rollupFields[`status_${c}`] = 'integer';
  for (const f of ['reqtime', 'upstream_time'])
    for (const p of ['count', 'sum', 'mean', 'max', 'p50', 'p95', 'p99'])
      rollupFields[`${f}_${p}`] = p === 'count' ? 'integer' : 'float';
  return {
    roles: Array.from({ length: roles }, (_, r) => ({
      role: `role-${r}`,
      versions: ['1.0.0', '1.0.1'],
      members: instancesPerRole,
      slots: Array.from({ length: instancesPerRole }, (_, i) => i),
    })),
    measurements: [
      { name: 'fleet_rollup', tagKeys: ['measurement', 'role', 'version'], fields: rollupFields },
      ...Array.from({ length: measurements }, (_, m) => ({
        name: `app.m${m}`,
        tagKeys: ['role', 'slot', 'status', 'version'],
        fields: { instance_id: 'string' as const, reqtime: 'float' as const },
      })),
    ],
    instances: Array.from({ length: roles * instancesPerRole }, (_, i) => ({
      instanceId: `i-${i.toString(16).padStart(17, '0')}`,
      role: `role-${Math.floor(i / instancesPerRole)}`,
      version: i % 2 ? '1.0.1' : '1.0.0',
      slot: i % instancesPerRole,
      az: `eu-west-1${'abc'[i % 3]}`,
      privateIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      launchedAt: 1_790_000_000_000 + i,
    })),
  };
}

function time<T>(label: string, runs: number, f: () => T): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) f();
  const ms = (performance.now() - t0) / runs;
  console.log(`  ${label.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms`);
  return ms;
}

const grafana = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};

console.log(`generate bench — node ${process.version}, ${cpus().length} cores`);
const small = fleet(10, 10, 5);
const big = fleet(200, 50, 20);
const results = {
  gen10: time('generateArtefacts, 10 roles', 20, () => generateArtefacts(small, { grafana })),
  gen200: time('generateArtefacts, 200 roles / 20 measurements', 3, () =>
    generateArtefacts(big, { grafana }),
  ),
  fingerprint: time('modelFingerprint (per poll), 200 roles', 50, () => modelFingerprint(big)),
  ansible: time('ansibleInventory, 10,000 instances', 10, () =>
    JSON.stringify(ansibleInventory(big)),
  ),
  ssh: time('sshConfig, 10,000 instances', 10, () => sshConfig(big)),
  hosts: time('hostList, 10,000 instances', 10, () => JSON.stringify(hostList(big))),
};
const files = generateArtefacts(big, { grafana }).files;
const bytes = files.reduce((n, f) => n + f.content.length, 0);
console.log(`  200 roles → ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
console.log(
  `goals: gen200 < 5000 ms ${results.gen200 < 5000 ? 'PASS' : 'FAIL'}; ` +
    `fingerprint < 10 ms ${results.fingerprint < 10 ? 'PASS' : 'FAIL'}; ` +
    `ansible 10k < 200 ms ${results.ansible < 200 ? 'PASS' : 'FAIL'}`,
);
