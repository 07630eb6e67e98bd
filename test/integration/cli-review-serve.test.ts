/**
 * `fleetline serve` handles SIGTERM from the moment it starts: the inputs accept data before
 * the last component has started (here the dashboard regenerator's first push hangs on a
 * Grafana that accepts connections and never answers), and a signal in that window must still
 * stop the service cleanly (flush, close the store, exit 0) rather than kill it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitForHttp } from '../helpers/cli.ts';
import { freePort } from '../helpers/influxd.ts';

describe('fleetline serve, signal during start', () => {
  it('SIGTERM while the last component is still starting exits 0 after a clean stop', async () => {
    const sockets: Socket[] = [];
    const blackhole = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const grafanaPort = (blackhole.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-cli-review-'));
    const port = await freePort();
    const config = join(dir, 'fleetline.yaml');
    writeFileSync(
      config,
      [
        `data_dir: ${join(dir, 'data')}`,
        'log_level: info',
        `http: { port: ${port} }`,
        `forward: { port: ${await freePort()} }`,
        'grafana:',
        `  url: http://127.0.0.1:${grafanaPort}`,
        '  token: glsa_test',
        '  regenerate: true',
        `  out_dir: ${join(dir, 'dashboards')}`,
        '',
      ].join('\n'),
    );
    const serve = startCli(['serve', '--config', config], { cwd: dir });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      // The regenerator is now waiting for Grafana; the service is not "running" yet.
      expect(serve.output()).not.toMatch(/"event":"service_started"/);
      serve.child.kill('SIGTERM');
      const exit = await serve.exited;
      expect(exit, serve.output()).toEqual({ code: 0, signal: null });
      expect(serve.output()).toMatch(/"event":"shutdown_finished"/);
    } finally {
      serve.child.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  }, 90_000);
});
