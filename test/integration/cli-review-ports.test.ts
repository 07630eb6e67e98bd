/** `fleetline serve` on a port that is taken: a clear message naming the key, no stack trace. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/influxd.ts';

describe('fleetline serve, port in use', () => {
  for (const key of ['http.port', 'forward.port'] as const) {
    it(`names ${key} and exits 78 without a stack trace`, async () => {
      const taken = createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
      const port = (taken.address() as { port: number }).port;
      const dir = mkdtempSync(join(tmpdir(), 'fleetline-cli-ports-'));
      try {
        const env = {
          FLEETLINE_DATA_DIR: join(dir, 'data'),
          FLEETLINE_HTTP_PORT: String(key === 'http.port' ? port : await freePort()),
          FLEETLINE_FORWARD_PORT: String(key === 'forward.port' ? port : await freePort()),
        };
        const r = await runCli(['serve'], { env, cwd: dir });
        expect(r.code, r.stderr).toBe(78);
        expect(r.stderr).toContain(key);
        expect(r.stderr).toContain(`127.0.0.1:${port}`);
        expect(r.stderr).toMatch(/in use/);
        expect(r.stderr).not.toMatch(/^\s+at /m);
      } finally {
        taken.close();
      }
    }, 60_000);
  }
});
