/**
 * Starts and stops a throw-away InfluxDB 1.x (Debian's `influxd`) for tests: free loopback
 * ports, data in a temp dir, configured through environment variables only, running as
 * `nobody` when we are root. See ../shared/reference/influxdb.md §4.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INFLUXD = process.env.FLEETLINE_TEST_INFLUXD ?? '/usr/bin/influxd';

export function influxdMissingMessage(): string {
  return (
    `influxd not found at ${INFLUXD}. The integration tests need a real InfluxDB 1.x: ` +
    "install Debian's package with `apt-get update && apt-get install -y influxdb` " +
    '(or point FLEETLINE_TEST_INFLUXD at an influxd binary).'
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Influxd {
  url: string;
  port: number;
  dir: string;
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the data dir stays. */
  stop(): Promise<void>;
  /** Starts again on the same port and data (after stop()). */
  restart(): Promise<void>;
  /** Stops and deletes the data dir. */
  destroy(): Promise<void>;
}

export async function startInfluxd(
  opts: { dir?: string; env?: Record<string, string> } = {},
): Promise<Influxd> {
  if (!existsSync(INFLUXD)) throw new Error(influxdMissingMessage());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fleetline-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) spawnSync('chown', ['-R', 'nobody:nogroup', dir]);
  let child: ChildProcess | undefined;

  const launch = async () => {
    const env: Record<string, string> = {
      PATH: '/usr/bin:/bin',
      HOME: dir,
      INFLUXDB_CONFIG_PATH: '/dev/null',
      INFLUXDB_META_DIR: join(dir, 'meta'),
      INFLUXDB_DATA_DIR: join(dir, 'data'),
      INFLUXDB_DATA_WAL_DIR: join(dir, 'wal'),
      INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${port}`,
      INFLUXDB_BIND_ADDRESS: `127.0.0.1:${rpcPort}`,
      INFLUXDB_REPORTING_ENABLED: 'false',
      INFLUXDB_REPORTING_DISABLED: 'true',
      INFLUXDB_MONITOR_STORE_ENABLED: 'false',
      INFLUXDB_HTTP_LOG_ENABLED: 'false',
      INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
      INFLUXDB_LOGGING_LEVEL: 'warn',
      ...opts.env,
    };
    const log = openSync(join(dir, 'influxd.log'), 'a');
    const [cmd, args] = asRoot
      ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', INFLUXD, 'run']]
      : [INFLUXD, ['run']];
    child = spawn(cmd, args as string[], { env, stdio: ['ignore', log, log], detached: false });
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`influxd exited with ${child.exitCode}; see ${dir}/influxd.log`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/ping`, {
          signal: AbortSignal.timeout(500),
        });
        if (res.status === 204) return;
      } catch {
        // not up yet
      }
      if (Date.now() - started > 20_000)
        throw new Error(`influxd did not answer /ping within 20 s; see ${dir}/influxd.log`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    restart: launch,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
