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
        rejectExit(err);
      },
    );
  });
}
