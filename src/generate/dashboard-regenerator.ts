/**
 * Keeps the generated files in step with the fleet while the service runs
 * (`grafana.regenerate: true`): polls the model every few seconds and, when what the
 * artefacts depend on changes (the roles and the signal catalog, not member counts or
 * instances), rewrites the files in `grafana.out_dir` and, when `grafana.url`/`token` are set,
 * pushes the dashboards. Grafana's file provisioning picks the files up by itself.
 */
import { parseDuration } from '../config/duration.ts';
import type { Config } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import { type Component, component } from '../core/lifecycle.ts';
import { counter } from '../telemetry/metrics.ts';
import { dashboardRoles, generateArtefacts, generateOptions } from './artefacts.ts';
import { createGrafanaClient } from './grafana-client.ts';
import { pushDashboards } from './grafana-push.ts';
import type { GenerationModel } from './model.ts';
import { signalCatalog } from './signal-catalog.ts';
import { stableJson } from './stable-json.ts';
import { writeArtefacts } from './write-artefacts.ts';

export interface RegeneratorOptions {
  model: () => GenerationModel;
  /** Poll period; default `grafana.regenerate_interval`. */
  pollMs?: number;
}

export interface DashboardRegenerator extends Component {
  /** Checks the model now; resolves when any regeneration it caused is written. */
  check(): Promise<void>;
}

/** What the artefacts are a function of; anything else changing needs no rewrite. */
export function modelFingerprint(model: GenerationModel): string {
  return stableJson({ roles: dashboardRoles(model), catalog: signalCatalog(model) });
}

export function createDashboardRegenerator(
  config: Readonly<Config>,
  deps: Deps,
  opts: RegeneratorOptions,
): DashboardRegenerator {
  const g = config.grafana;
  const runs = counter(
    deps.metrics,
    'fleetline_generate_regenerations_total',
    'Times the service regenerated dashboards because the fleet or catalog changed',
  );
  const failures = counter(
    deps.metrics,
    'fleetline_generate_regeneration_errors_total',
    'Regenerations that failed (files or push), by stage',
    ['stage'],
  );
  // Files and push are tracked apart: a Grafana outage must not stop the files from
  // following the fleet, and a failed push is retried at every poll until it lands.
  let written: string | undefined;
  let pushed: string | undefined;
  let pushFailing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const pushWanted = Boolean(g.url && g.token);

  const regenerate = async () => {
    const model = { rollupInterval: config.rollup.interval, ...opts.model() };
    const fingerprint = modelFingerprint(model);
    if (fingerprint === written && (!pushWanted || fingerprint === pushed)) return;
    const artefacts = generateArtefacts(model, generateOptions(config));
    if (fingerprint !== written) {
      try {
        const w = await writeArtefacts(g.out_dir, artefacts.files);
        written = fingerprint;
        runs.inc();
        deps.log.info(
          {
            event: 'dashboards_regenerated',
            dir: g.out_dir,
            roles: dashboardRoles(model).length,
            written: w.written.length,
            removed: w.removed.length,
          },
          'dashboards regenerated',
        );
      } catch (err) {
        failures.inc({ stage: 'files' });
        deps.log.warn(
          { event: 'dashboards_regeneration_failed', stage: 'files', err: (err as Error).message },
          'could not write generated dashboards; will retry',
        );
        return;
      }
    }
    if (!pushWanted || fingerprint === pushed) return;
    try {
      await pushDashboards(
        createGrafanaClient({ url: g.url!, token: g.token! }),
        artefacts.dashboards,
        { folderUid: g.folder_uid, folderTitle: g.folder_title },
        deps,
      );
      pushed = fingerprint;
      if (pushFailing)
        deps.log.info({ event: 'dashboards_push_recovered' }, 'Grafana push succeeded again');
      pushFailing = false;
    } catch (err) {
      failures.inc({ stage: 'push' });
      // One line per outage, not one per poll; the counter shows every attempt.
      if (!pushFailing)
        deps.log.warn(
          { event: 'dashboards_regeneration_failed', stage: 'push', err: (err as Error).message },
          'could not push regenerated dashboards to Grafana; retrying every poll',
        );
      pushFailing = true;
    }
  };

  const check = () => {
    running = running.then(regenerate, regenerate);
    return running;
  };

  const lifecycle = component('dashboard-regenerator', {
    async start() {
      if (!g.regenerate) return;
      await check();
      timer = setInterval(() => void check(), opts.pollMs ?? parseDuration(g.regenerate_interval));
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  });
  return { ...lifecycle, check };
}
