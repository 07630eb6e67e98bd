/** The Grafana API client with a URL that carries credentials (`https://admin:pw@grafana`). */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrafanaClient } from '../../src/generate/grafana-client.ts';

let seen: IncomingMessage[] = [];
const server = createServer((req, res) => {
  seen.push(req);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true }));
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('grafana client', () => {
  it('talks to a URL with userinfo using the token, and never prints the password', async () => {
    seen = [];
    const client = createGrafanaClient({
      url: `http://admin:s3cret-pw@127.0.0.1:${port}/`,
      token: 'glsa_tok',
    });
    await expect(client.request('GET', '/api/health')).resolves.toEqual({ ok: true });
    expect(seen[0]?.headers.authorization).toBe('Bearer glsa_tok');
  });

  it('names an unreachable Grafana without its credentials', async () => {
    const client = createGrafanaClient({
      url: 'http://admin:s3cret-pw@127.0.0.1:1',
      token: 'glsa_tok',
    });
    const err = await client.request('GET', '/api/health').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/unreachable/);
    expect(err?.message).toContain('127.0.0.1:1');
    expect(err?.message).not.toContain('s3cret-pw');
    expect(err?.message).not.toContain('glsa_tok');
  });
});

describe('fleetline dashboards --push with credentials in grafana.url', () => {
  it('pushes with the token and prints the URL without the password', async () => {
    const { startFakeGrafana } = await import('../helpers/grafana-api.ts');
    const { runDashboards } = await import('../../src/generate/cli-dashboards.ts');
    const { parseConfig } = await import('../../src/config/load.ts');
    const { scenarioModel } = await import('./fleet-scenario.ts');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const g = await startFakeGrafana({ token: 'glsa_tok' });
    const dir = await mkdtemp(join(tmpdir(), 'fleetline-push-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const url = g.url.replace('http://', 'http://admin:s3cret-pw@');
      const code = await runDashboards(['--push', '--out', dir], {
        loadModel: async () => scenarioModel,
        loadConfig: () => parseConfig({ grafana: { url, token: 'glsa_tok' } }).config,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      expect(err.join('\n')).toBe('');
      expect(code).toBe(0);
      expect(g.dashboards.size).toBeGreaterThan(0);
      expect(out.join('\n')).not.toContain('s3cret-pw');
    } finally {
      await g.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
