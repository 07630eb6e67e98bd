import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import { runDashboards } from '../../src/generate/cli-dashboards.ts';
import { scenarioModel } from './fleet-scenario.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetline-dash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRET_CONFIG = {
  influxdb: { url: 'http://writer:s3cret-pass@influx.internal:8086', token: 'influx-s3cret-token' },
  grafana: { token: 'glsa_s3cret' },
};

async function run(argv: string[], raw: object = SECRET_CONFIG) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDashboards(argv, {
    loadModel: async () => scenarioModel,
    loadConfig: () => parseConfig(raw).config,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function readTree(root: string, sub = ''): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const e of await readdir(join(root, sub), { withFileTypes: true })) {
    const rel = join(sub, e.name);
    if (e.isDirectory()) Object.assign(files, await readTree(root, rel));
    else files[rel] = await readFile(join(root, rel), 'utf8');
  }
  return files;
}

describe('fleetline dashboards', () => {
  it('writes dashboards, provisioning and alert rules', async () => {
    const out = join(dir, 'a');
    const r = await run(['--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('3 dashboards for 1 roles; 6 files written');
    expect(Object.keys(await readTree(out)).sort()).toEqual([
      'fl-fleet-overview.json',
      expect.stringMatching(/^fl-role-web-[0-9a-f]{8}\.json$/),
      expect.stringMatching(/^fl-ver-web-[0-9a-f]{8}\.json$/),
      'provisioning/alerting/fleetline-alerts.yaml',
      'provisioning/dashboards.yaml',
      'provisioning/datasources.yaml',
    ]);
  });

  it('writes valid provisioning YAML: a file provider and an InfluxQL datasource with the configured uid', async () => {
    const out = join(dir, 'p');
    await run(['--out', out], {
      ...SECRET_CONFIG,
      grafana: { provisioning_path: '/srv/grafana/fleetline' },
    });
    const dash = parse(await readFile(join(out, 'provisioning/dashboards.yaml'), 'utf8'));
    expect(dash).toMatchObject({
      apiVersion: 1,
      providers: [
        { type: 'file', folderUid: 'fleetline', options: { path: '/srv/grafana/fleetline' } },
      ],
    });
    const dsText = await readFile(join(out, 'provisioning/datasources.yaml'), 'utf8');
    const ds = parse(dsText);
    expect(ds.datasources[0]).toMatchObject({
      uid: 'fleetline-influxdb',
      type: 'influxdb',
      url: 'http://influx.internal:8086',
      jsonData: { dbName: 'fleetline', version: 'InfluxQL', timeInterval: '10s' },
    });
    expect(dsText).toMatch(/^# +httpHeaderName1: Authorization$/m);
  });

  it('puts no secret from the configuration into any file', async () => {
    const out = join(dir, 's');
    await run(['--out', out]);
    for (const [name, text] of Object.entries(await readTree(out)))
      for (const secret of ['s3cret', 'writer:']) expect(text, name).not.toContain(secret);
  });

  it('is byte-identical across runs and rewrites nothing the second time', async () => {
    const a = join(dir, 'x');
    const b = join(dir, 'y');
    await run(['--out', a]);
    await run(['--out', b]);
    expect(await readTree(a)).toEqual(await readTree(b));
    const again = await run(['--out', a]);
    expect(again.out).toContain('0 files written, 6 unchanged, 0 removed');
  });

  it('removes dashboards of roles that no longer exist, and nothing else', async () => {
    const out = join(dir, 'r');
    await run(['--out', out]);
    await writeFile(join(out, 'fl-role-gone-00000000.json'), '{}');
    await writeFile(join(out, 'notes.json'), '{}');
    const r = await run(['--out', out]);
    expect(r.out).toContain('1 removed');
    const names = await readdir(out);
    expect(names).toContain('notes.json');
    expect(names).not.toContain('fl-role-gone-00000000.json');
  });

  it('exits 2 on unknown flags and configuration errors, 1 when the model cannot load', async () => {
    expect((await run(['--bogus'])).code).toBe(2);
    const bad = await run(['--out', join(dir, 'b')], { grafana: { nope: 1 } });
    expect(bad.code).toBe(2);
    const failing = await runDashboards(['--out', join(dir, 'f')], {
      loadModel: async () => {
        throw new Error('registry unavailable');
      },
      loadConfig: () => parseConfig({}).config,
      out: () => {},
      err: () => {},
    });
    expect(failing).toBe(1);
  });
});
