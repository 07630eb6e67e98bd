/**
 * `fleetline demo`: the service on its embedded default plus the fleet simulator, so a newcomer
 * sees continuity within a minute: roles keep their slots across swaps, replacements and
 * rollouts appear as events, and rollups stay continuous. Prints a console summary every few
 * seconds, writes Grafana dashboards into ./dashboards (kept up to date as roles appear), and
 * stops cleanly on Ctrl-C. With `influxdb.url` configured it fills that InfluxDB too.
 */
import { parseArgs } from 'node:util';
import { loadConfig, parseConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../core/deps.ts';
import { startAll, stopAll } from '../core/lifecycle.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { parseSimulateArgs } from '../simulate/cli.ts';
import { createSimulator, type Simulator } from '../simulate/simulator.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';
import { createService, type Service } from './service.ts';

export const DEMO_USAGE = `fleetline demo [--config FILE] [--speed N] [--seed N] [--duration D] [--every SECONDS]

Runs fleetline on its embedded default (or your --config) and drives a simulated fleet of
three roles through it: a rolling release every 10 simulated minutes and a fault replacement
every 15, at 60× speed by default. Ctrl-C stops both cleanly.`;

/** The demo's config: the user's, plus what the demo needs (labels from records, dashboards). */
export function demoConfig(base: Readonly<Config>): Readonly<Config> {
  const doc = structuredClone(base) as Record<string, unknown> & Config;
  doc.registry = {
    ...doc.registry,
    records: doc.registry.records ?? { role_key: 'role', version_key: 'version' },
  };
  doc.grafana = { ...doc.grafana, regenerate: true };
  doc.log_level = base.log_level === 'info' ? 'warn' : base.log_level;
  return parseConfig(doc, { source: 'demo' }).config;
}

/** One screen of what is happening, for the console. */
export function summarize(service: Service, sim: Simulator, ingestRate: number): string {
  const live = service.registry.instances({ live: true });
  const byRole = new Map<string, Map<string, number>>();
  for (const i of live) {
    const versions = byRole.get(i.role) ?? new Map<string, number>();
    versions.set(i.version, (versions.get(i.version) ?? 0) + 1);
    byRole.set(i.role, versions);
  }
  const roleLines = [...byRole.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([role, versions]) =>
        `  ${role.padEnd(10)} ${[...versions.entries()].map(([v, n]) => `${n}×${v}`).join('  ')}`,
    );
  // The newest few, straight from SQLite: the event store pages oldest first, so a query with
  // a limit would freeze this list once the demo has produced that many events.
  const recent = (
    service.store.db
      .prepare(
        `SELECT body FROM fleet_events
         WHERE kind IN ('replace', 'deploy') OR kind LIKE 'rollout\\_%' ESCAPE '\\'
         ORDER BY time DESC, id DESC LIMIT 5`,
      )
      .all() as { body: string }[]
  )
    .reverse()
    .map((r) => JSON.parse(r.body) as LifecycleEvent)
    .map(
      (e) =>
        `  ${new Date(e.time).toISOString().slice(11, 19)} ${e.kind.padEnd(16)} ${e.role.padEnd(8)} ${e.text}`,
    );
  const spool = service.spool.stats();
  const s = sim.stats();
  return [
    `── fleetline demo · ${Math.round(s.elapsedMs / 1000)}s · http ${service.http.url()} ─────────────`,
    'members by version:',
    ...(roleLines.length ? roleLines : ['  (waiting for the fleet)']),
    'recent replacements / rollouts:',
    ...(recent.length
      ? recent
      : ['  (none yet: the first release starts 10 simulated minutes in)']),
    `ingest ${Math.round(ingestRate)} rec/s · sent ${s.sent} · acked ${s.acked} · failed ${s.failed}` +
      ` · spool ${spool.entries} entries / ${Math.round(spool.bytes / 1024)} KiB · delivery lag ${Math.round(spool.oldestAgeMs)} ms`,
    '',
  ].join('\n');
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      speed: { type: 'string', default: '60' },
      seed: { type: 'string', default: '1' },
      duration: { type: 'string', default: '24h' },
      every: { type: 'string', default: '3' },
    },
  });
  const config = demoConfig(loadConfig({ file: values.config }).config);
  // Every option is checked before anything starts: a typo is a usage error, not a service
  // left running (or a summary printed every millisecond for a NaN interval).
  const every = Number(values.every);
  if (!Number.isFinite(every) || every <= 0) {
    process.stderr.write(`fleetline demo: --every: expected seconds > 0, got ${values.every}\n`);
    return 2;
  }
  const simArgs = (forward: string, http: string) => [
    `--forward=${forward}`,
    `--http=${http}`,
    `--speed=${values.speed}`,
    `--seed=${values.seed}`,
    `--duration=${values.duration}`,
    ...(config.forward.shared_key ? [`--shared-key=${config.forward.shared_key}`] : []),
    ...(config.http.token ? [`--token=${config.http.token}`] : []),
  ];
  try {
    parseSimulateArgs(simArgs('127.0.0.1:1', 'http://127.0.0.1:1'));
  } catch (e) {
    process.stderr.write(`fleetline demo: ${(e as Error).message}\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (!config.forward.enabled) {
    process.stderr.write('fleetline demo: forward.enabled must be true for the demo\n');
    return 2;
  }
  const log = createLogger(config.log_level, process.stderr);
  const deps = { log, clock: systemClock, metrics: createMetricsRegistry() };
  const service = createService(config, deps);
  await startAll(service.components);
  try {
    return await runWithService(service, deps, simArgs, config, every);
  } finally {
    // Also when the simulator fails to start: the service flushes and closes its store.
    await stopAll(service.components);
  }
}

async function runWithService(
  service: Service,
  deps: { log: ReturnType<typeof createLogger>; metrics: ReturnType<typeof createMetricsRegistry> },
  simArgs: (forward: string, http: string) => string[],
  config: Readonly<Config>,
  everySeconds: number,
): Promise<number> {
  const { log } = deps;
  const forwardPort = service.forward!.port();
  const sim = createSimulator(
    parseSimulateArgs(simArgs(`127.0.0.1:${forwardPort}`, service.http.url())),
    { log, clock: systemClock },
  );
  await sim.start();
  process.stdout.write(
    `fleetline demo: service at ${service.http.url()} (Forward 127.0.0.1:${forwardPort}), ` +
      `dashboards in ./${config.grafana.out_dir}, Ctrl-C to stop\n\n`,
  );

  const accepted = async () => {
    const m = deps.metrics.getSingleMetric('fleetline_forward_events_accepted_total');
    return m ? (await m.get()).values.reduce((s, v) => s + v.value, 0) : 0;
  };
  let last = { t: Date.now(), n: await accepted() };
  const every = Math.max(1, everySeconds) * 1000;
  const timer = setInterval(async () => {
    const now = { t: Date.now(), n: await accepted() };
    const rate = ((now.n - last.n) * 1000) / Math.max(1, now.t - last.t);
    last = now;
    process.stdout.write(summarize(service, sim, rate));
  }, every);

  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    void sim.finished().then(done);
  });
  clearInterval(timer);
  process.stdout.write('fleetline demo: stopping…\n');
  await sim.stop();
  await stopAll(service.components);
  const s = sim.stats();
  process.stdout.write(
    `fleetline demo: stopped. sent ${s.sent}, acked ${s.acked}, failed ${s.failed}\n`,
  );
  return 0;
}
