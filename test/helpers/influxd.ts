/**
 * Starts and stops a throw-away InfluxDB 1.x (Debian's `influxd`) for tests: free loopback
 * ports, data in a temp dir, configured through environment variables only, running as
 * `nobody` when we are root. See ../shared/reference/influxdb.md §4.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * A loopback port, free for TCP and UDP, for a server that must be told its port up front
 * (a child process) or must come back on the same port after a restart.
 *
 * Chosen *below* the kernel's ephemeral range: ports from `listen(0)` and outgoing connections
 * come from that range, so while our server is down (an outage test keeps InfluxDB's port free
 * for a minute) no other test on the machine can be handed the port. Within the lower range,
 * picks are random and probed, so parallel workers do not collide either.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if ((await canBindTcp(port)) && (await canBindUdp(port))) return port;
  }
  throw new Error(`no free loopback port found in ${low}..${high}`);
}

function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (a && b) return [a, b];
  } catch {
    // not Linux: fall back to the IANA dynamic range
  }
  return [49152, 65535];
}

function canBindTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.unref();
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
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
      // influxd usually answers within a second; a loaded machine can take far longer.
      if (Date.now() - started > 45_000)
        throw new Error(`influxd did not answer /ping within 45 s; see ${dir}/influxd.log`);
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
