/**
 * `fleetline serve`: load config, build the service, start it, and stop it cleanly on
 * SIGTERM/SIGINT (stop accepting, flush, close stores, exit 0). A second signal exits at once.
 */
import { loadConfig } from '../config/load.ts';
import { systemClock } from '../core/deps.ts';
import { startAll, stopAll } from '../core/lifecycle.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';
import { createService } from './service.ts';

export async function serve(opts: { config?: string }): Promise<number> {
  const { config, source, overrides } = loadConfig({ file: opts.config });
  const log = createLogger(config.log_level);
  const deps = { log, clock: systemClock, metrics: createMetricsRegistry() };
  const service = createService(config, deps);
  log.info({ event: 'config_loaded', source, overrides }, 'configuration loaded');
  await startAll(service.components);
  log.info(
    { event: 'service_started', http: service.http.url(), data_dir: config.data_dir },
    'fleetline is running',
  );

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ event: 'shutdown_forced', signal }, 'second signal, exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ event: 'shutdown_started', signal }, 'stopping');
      stopAll(service.components).then(
        () => {
          log.info({ event: 'shutdown_finished' }, 'stopped cleanly');
          resolveExit(0);
        },
        (err: unknown) => {
          log.error({ event: 'shutdown_failed', err }, 'stop failed');
          resolveExit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
