/**
 * `fleetline dashboards --push` against a local endpoint speaking Grafana's HTTP API
 * (test/helpers/grafana-api.ts): folder created once, dashboards upserted by uid into the
 * folder, a second push changes nothing, and auth/conflict failures read clearly.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { LifecycleEvent } from '../../src/fleet/lifecycle-event.ts';
import { generateArtefacts } from '../../src/generate/artefacts.ts';
import { runDashboards } from '../../src/generate/cli-dashboards.ts';
import { pushAnnotations } from '../../src/generate/grafana-annotations.ts';
import { createGrafanaClient, GrafanaApiError } from '../../src/generate/grafana-client.ts';
import { pushDashboards } from '../../src/generate/grafana-push.ts';
import { scenarioModel } from '../generate/fleet-scenario.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type FakeGrafana, startFakeGrafana } from '../helpers/grafana-api.ts';

const TOKEN = 'glsa_test_token';
let grafana: FakeGrafana;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetline-push-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
// A fresh Grafana per test: each test states what it starts from, whatever order they run in.
beforeEach(async () => {
  grafana = await startFakeGrafana({ token: TOKEN, readOnlyTokens: ['glsa_viewer'] });
});
afterEach(async () => {
  await grafana.stop();
});

/** Grafana as a first push of the scenario's dashboards leaves it. */
async function pushScenario(): Promise<void> {
  const client = createGrafanaClient({ url: grafana.url, token: TOKEN });
  const { dashboards } = generateArtefacts(scenarioModel, { grafana: grafanaOptions });
  await pushDashboards(
    client,
    dashboards,
    { folderUid: 'fleetline', folderTitle: 'fleetline' },
    testDeps(),
  );
  grafana.requests.length = 0;
}

const grafanaOptions = {
  datasource_uid: 'fleetline-influxdb',
  folder_title: 'fleetline',
  folder_uid: 'fleetline',
  alerts: { defaults: { error_ratio: 0.05, p95_latency: 1, min_members: 1 }, roles: {} },
};

function cli(token: string | undefined, lines: string[], errors: string[]) {
  const env: NodeJS.ProcessEnv = { FLEETLINE_GRAFANA_URL: grafana.url };
  if (token) env.FLEETLINE_GRAFANA_TOKEN = token;
  return {
    loadModel: async () => scenarioModel,
    loadConfig: () => loadConfig({ env, cwd: dir }).config,
    deps: testDeps(),
    out: (l: string) => lines.push(l),
    err: (l: string) => errors.push(l),
  };
}

describe('dashboards --push', () => {
  it('creates the folder once and upserts every dashboard; a second push is unchanged', async () => {
    const out = join(dir, 'out');
    const lines: string[] = [];
    const errors: string[] = [];
    expect(await runDashboards(['--out', out, '--push'], cli(TOKEN, lines, errors))).toBe(0);
    expect(errors).toEqual([]);
    expect(grafana.folders.get('fleetline')?.title).toBe('fleetline');
    expect([...grafana.dashboards.keys()].sort()).toEqual(
      (await readdir(out))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.replace(/\.json$/, ''))
        .sort(),
    );
    for (const d of grafana.dashboards.values()) {
      expect(d.folderUid).toBe('fleetline');
      expect(d.version).toBe(1);
    }
    expect(lines.filter((l) => l.trim().startsWith('created'))).toHaveLength(3);

    const again: string[] = [];
    expect(await runDashboards(['--out', out, '--push'], cli(TOKEN, again, errors))).toBe(0);
    expect(again.filter((l) => l.trim().startsWith('unchanged'))).toHaveLength(3);
    expect(again[0]).toContain('0 files written');
    expect(again).toContain(`Grafana ${grafana.url}: folder fleetline exists`);
    expect(grafana.requests.filter((r) => r === 'POST /api/folders')).toHaveLength(1);
    expect(grafana.requests.filter((r) => r === 'POST /api/dashboards/db')).toHaveLength(3);
    for (const d of grafana.dashboards.values()) expect(d.version).toBe(1);
  });

  it('updates only the dashboards whose content changed', async () => {
    await pushScenario();
    const deps = testDeps();
    const client = createGrafanaClient({ url: grafana.url, token: TOKEN });
    const grown = {
      ...scenarioModel,
      roles: [
        ...scenarioModel.roles,
        { role: 'api', versions: ['2.0.0'], members: 2, slots: [0, 1] },
      ],
    };
    const { dashboards } = generateArtefacts(grown, { grafana: grafanaOptions });
    const r = await pushDashboards(
      client,
      dashboards,
      { folderUid: 'fleetline', folderTitle: 'fleetline' },
      deps,
    );
    const byStatus = (s: string) => r.dashboards.filter((d) => d.status === s).map((d) => d.uid);
    // The overview links to every role, so it changes; web's dashboards do not.
    expect(byStatus('updated')).toEqual(['fl-fleet-overview']);
    expect(byStatus('created')).toHaveLength(2);
    expect(byStatus('unchanged')).toHaveLength(2);
    expect(
      await metricValue(deps, 'fleetline_generate_dashboards_pushed_total', {
        status: 'unchanged',
      }),
    ).toBe(2);
  });

  it('fails with a clear message and exit 1 on a missing or wrong token (401)', async () => {
    const errors: string[] = [];
    const env = { FLEETLINE_GRAFANA_URL: grafana.url, FLEETLINE_GRAFANA_TOKEN: 'wrong' };
    const code = await runDashboards(['--out', join(dir, 'o401'), '--push'], {
      ...cli(undefined, [], errors),
      loadConfig: () => loadConfig({ env, cwd: dir }).config,
    });
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/401.*grafana\.token/);
    expect(errors.join('\n')).not.toContain('wrong');

    const client = createGrafanaClient({ url: grafana.url, token: '' });
    await expect(client.request('GET', '/api/folders/x')).rejects.toMatchObject({
      code: 'grafana_unauthorized',
      status: 401,
    });
  });

  it('refuses --push without a token (exit 2) before touching Grafana', async () => {
    const errors: string[] = [];
    const before = grafana.requests.length;
    expect(
      await runDashboards(['--push', '--out', join(dir, 'o2')], cli(undefined, [], errors)),
    ).toBe(2);
    expect(errors.join('\n')).toContain('grafana.token');
    expect(grafana.requests.length).toBe(before);
  });

  it('reports 403 as a permission problem', async () => {
    const client = createGrafanaClient({ url: grafana.url, token: 'glsa_viewer' });
    const err = await client
      .request('POST', '/api/folders', { uid: 'x', title: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrafanaApiError);
    expect((err as Error).message).toMatch(/403.*Editor/);
  });

  it('reports 412 version-mismatch (posting a stale version without overwrite)', async () => {
    await pushScenario();
    const client = createGrafanaClient({ url: grafana.url, token: TOKEN });
    const stale = {
      dashboard: { uid: 'fl-fleet-overview', title: 'x', version: 0 },
      overwrite: false,
      folderUid: 'fleetline',
    };
    const err = await client.request('POST', '/api/dashboards/db', stale).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'grafana_precondition_failed',
      status: 412,
      retryable: false,
    });
    expect((err as Error).message).toContain('version-mismatch');
  });

  it('explains a folder title taken by another uid (409)', async () => {
    await pushScenario();
    const client = createGrafanaClient({ url: grafana.url, token: TOKEN });
    const err = await pushDashboards(
      client,
      [],
      { folderUid: 'other-uid', folderTitle: 'fleetline' },
      testDeps(),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'grafana_folder_conflict', status: 409 });
    expect((err as Error).message).toContain('grafana.folder_uid');
  });

  it('mirrors lifecycle events as tagged annotations, once', async () => {
    const deps = testDeps();
    const client = createGrafanaClient({ url: grafana.url, token: TOKEN });
    const events: LifecycleEvent[] = [
      {
        id: 'ev-1',
        kind: 'replace',
        time: Date.UTC(2026, 10, 27, 10, 5),
        role: 'web',
        text: 'i-old → i-new (1.4.2 → 1.4.3, release)',
        oldInstanceId: 'i-old',
        newInstanceId: 'i-new',
      },
    ];
    expect(await pushAnnotations(client, events, deps)).toEqual({ created: 1, skipped: 0 });
    expect(await pushAnnotations(client, events, deps)).toEqual({ created: 0, skipped: 1 });
    expect(grafana.annotations).toHaveLength(1);
    expect(grafana.annotations[0]).toMatchObject({
      time: events[0]!.time,
      text: events[0]!.text,
      tags: expect.arrayContaining(['fleetline', 'role:web', 'kind:replace']),
    });
  });
});
