import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, waitForHttp } from '../helpers/cli.ts';
import { freePort } from '../helpers/influxd.ts';

// Each test starts the real executable (a cold tsx compile): seconds each on a loaded machine.
describe('fleetline CLI', { timeout: 90_000 }, () => {
  it('--help lists every command with a one-line description; --version prints the version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}serve {2,}\S.+$/m);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^fleetline \d+\.\d+\.\d+/);
  });

  it('rejects an unknown command with the help text', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('serve exits non-zero and prints every key path of a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      ['forward:', '  port: "twenty"', 'http:', '  bind: 127', 'surprise: 1', ''].join('\n'),
    );
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('forward.port: must be integer');
    expect(r.stderr).toContain('http.bind: must be string');
    expect(r.stderr).toContain('surprise: unknown key');
  });

  it('SIGTERM during operation exits 0 and leaves a consistent SQLite file that the next start reopens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-cli-'));
    const port = await freePort();
    const env = {
      FLEETLINE_DATA_DIR: join(dir, 'data'),
      FLEETLINE_HTTP_PORT: String(port),
      FLEETLINE_FORWARD_PORT: String(await freePort()),
      FLEETLINE_LOG_LEVEL: 'info',
    };
    const first = startCli(['serve'], { env, cwd: dir });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    // Keep it busy while the signal lands.
    const busy = Array.from({ length: 20 }, () =>
      fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined),
    );
    first.child.kill('SIGTERM');
    await Promise.all(busy);
    const exit = await first.exited;
    expect(exit.code, first.output()).toBe(0);
    expect(first.output()).toMatch(/"event":"shutdown_finished"/);

    const db = new Database(join(dir, 'data', 'fleetline.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const second = startCli(['serve'], { env, cwd: dir });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);
    second.child.kill('SIGINT');
    expect((await second.exited).code).toBe(0);
    // Two cold starts of the real executable: more than the default test timeout on a loaded machine.
  }, 120_000);
});
