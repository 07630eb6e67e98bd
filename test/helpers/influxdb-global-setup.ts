/**
 * vitest global setup: one real InfluxDB for the whole run. Tests get its URL through
 * `inject('influxUrl')` (see `influxdb.ts`). A missing influxd fails the run with install
 * instructions; it never skips.
 *
 * It also gives the run its own temp directory (TMPDIR, inherited by the test workers and the
 * processes they start) and removes it at the end: tests make data dirs with `mkdtemp` and not
 * all of them clean up, and CI runs again and again on the same machine.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startInfluxd } from './influxd.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const previousTmp = process.env.TMPDIR;
  const runTmp = mkdtempSync(join(tmpdir(), 'fleetline-test-run-'));
  // Like /tmp itself: influxd runs as `nobody` when we are root and makes its dirs in here.
  chmodSync(runTmp, 0o1777);
  const restore = () => {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    rmSync(runTmp, { recursive: true, force: true });
  };
  process.env.TMPDIR = runTmp;
  let server: Awaited<ReturnType<typeof startInfluxd>>;
  try {
    server = await startInfluxd();
  } catch (err) {
    restore();
    throw err;
  }
  project.provide('influxUrl', server.url);
  return async () => {
    await server.destroy();
    restore();
  };
}
