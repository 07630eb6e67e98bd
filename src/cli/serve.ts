/**
 * `fleetline serve`: load config, build the service, start it, and stop it cleanly on
 * SIGTERM/SIGINT (stop accepting, flush, close stores, exit 0). A second signal exits at once.
 */
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../core/deps.ts';
import { startAll, stopAll } from '../core/lifecycle.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';
import { createService } from './service.ts';

export async function serve(opts: { config?: string }): Promise<number> {
  const { config, source, overrides, unknownEnv, emptyEnv } = loadConfig({ file: opts.config });
  const log = createLogger(config.log_level);
  const deps = { log, clock: systemClock, metrics: createMetricsRegistry() };
  const service = createService(config, deps);
  log.info({ event: 'config_loaded', source, overrides }, 'configuration loaded');
  if (unknownEnv.length > 0)
    log.warn(
      { event: 'config_unknown_env', names: unknownEnv },
      `FLEETLINE_* variables that set no configuration key (misspelled?): ${unknownEnv.join(', ')}`,
    );
  if (emptyEnv.length > 0)
    log.warn(
      { event: 'config_empty_env', names: emptyEnv },
      `FLEETLINE_* variables set but empty, so ignored (an unset shell variable?): ${emptyEnv.join(', ')}`,
    );
  // Signals are handled from the first start on: the inputs accept (and acknowledge) data
  // long before the last component has started (the dashboard regenerator's first push can
  // wait out a Grafana timeout), and a SIGTERM in that window must stop cleanly too, not kill.
  return new Promise<number>((resolveExit, rejectExit) => {
    let stopping = false;
    const starting = startAll(service.components);
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ event: 'shutdown_forced', signal }, 'second signal, exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ event: 'shutdown_started', signal }, 'stopping');
      starting
        .then(
          () => true,
          () => false,
        )
        .then(async (started) => {
          await stopAll(service.components);
          return started;
        })
        .then(
          (started) => {
            log.info({ event: 'shutdown_finished' }, 'stopped cleanly');
            resolveExit(started ? 0 : 1);
          },
          (err: unknown) => {
            log.error({ event: 'shutdown_failed', err }, 'stop failed');
            resolveExit(1);
          },
        );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    starting.then(
      () => {
        if (!stopping)
          log.info(
            { event: 'service_started', http: service.http.url(), data_dir: config.data_dir },
            'fleetline is running',
          );
      },
      (err: unknown) => {
        // startAll already stopped what had started; a signal meanwhile reports through onSignal.
        if (stopping) return;
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        rejectExit(listenError(err, config, source) ?? err);
      },
    );
  });
}

/**
 * A port that is taken or not allowed is a setting to change, not a crash: said as a
 * configuration problem naming the key (main prints it without a stack, exit 78).
 */
function listenError(
  err: unknown,
  config: Readonly<Config>,
  source: string,
): ConfigError | undefined {
  const e = err as { code?: string; port?: number; address?: string };
  const why =
    e?.code === 'EADDRINUSE'
      ? 'is already in use (another fleetline, fluentd or Fluent Bit?); choose a free port'
      : e?.code === 'EACCES'
        ? 'may not be bound by this user (ports below 1024 need privileges); choose another'
        : e?.code === 'EADDRNOTAVAIL'
          ? 'is not an address of this host; check the bind address'
          : undefined;
  if (!why || e.port === undefined) return undefined;
  const keys = [
    ...(config.http.port === e.port ? ['http'] : []),
    ...(config.forward.enabled && config.forward.port === e.port ? ['forward'] : []),
  ];
  if (keys.length === 0) return undefined;
  const problems = keys.map((k) => {
    const bind = k === 'http' ? config.http.bind : config.forward.bind;
    return `${k}.port: ${e.address ?? bind}:${e.port} ${why}`;
  });
  return new ConfigError(problems, source);
}
