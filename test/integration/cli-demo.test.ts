import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/influxd.ts';
import { eventually } from '../helpers/service.ts';

describe('fleetline demo', () => {
  it('shows members, replacements and rollouts within seconds, writes dashboards, and stops cleanly on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetline-demo-'));
    const env = {
      FLEETLINE_DATA_DIR: join(dir, 'data'),
      FLEETLINE_HTTP_PORT: String(await freePort()),
      FLEETLINE_FORWARD_PORT: String(await freePort()),
    };
    // 600×: a 10-minute release takes one second.
    const demo = startCli(['demo', '--speed', '600', '--every', '1'], { env, cwd: dir });
    try {
      await eventually(
        () =>
          /replace\s+web\s+i-0[0-9a-f]+ → i-0[0-9a-f]+ \(1\.4\.2 → 1\.4\.3, release/.test(
            demo.output(),
          ),
        30_000,
        'a web replacement on the console',
      );
      expect(demo.output()).toMatch(/members by version:\n\s+api\s+\d×2\.0\.\d/);
      expect(demo.output()).toMatch(/rollout_(start|progress|finish)/);
      await eventually(
        () =>
          existsSync(join(dir, 'dashboards')) &&
          readdirSync(join(dir, 'dashboards')).some((f) => f.startsWith('fl-role-web')),
        15_000,
        'the web dashboard file',
      );
    } finally {
      demo.child.kill('SIGINT');
    }
    const exit = await demo.exited;
    expect(exit.code, demo.output()).toBe(0);
    expect(demo.output()).toMatch(/stopped\. sent (\d+), acked \1, failed 0/);
  }, 60_000);
});
