/**
 * `fleetline dashboards [--out DIR] [--push] [--config FILE]`: writes the dashboards,
 * provisioning and alert rules generated from the registry/catalog, and with `--push` upserts
 * the dashboards into Grafana (`grafana.url`, `grafana.token` / `FLEETLINE_GRAFANA_TOKEN`).
 * Returns the exit code: 0 done, 1 failed, 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { type Deps, systemClock } from '../core/deps.ts';
import { FleetlineError } from '../core/errors.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';
import { generateArtefacts, generateOptions } from './artefacts.ts';

// Kept importable from here: the composition root and deploy tests already use it.
export { generateOptions };

import { pushAnnotations } from './grafana-annotations.ts';
import { createGrafanaClient, withoutCredentials } from './grafana-client.ts';
import { pushDashboards } from './grafana-push.ts';
import type { GenerationModel } from './model.ts';
import { writeArtefacts } from './write-artefacts.ts';

export const DASHBOARDS_USAGE = `usage: fleetline dashboards [--out DIR] [--push] [--config FILE]

Writes Grafana dashboards (<out>/*.json), provisioning (<out>/provisioning/*.yaml) and alert
rules (<out>/provisioning/alerting/fleetline-alerts.yaml) generated from the fleet registry.
  --out DIR      output directory (default: grafana.out_dir)
  --push         also upsert the dashboards into Grafana (grafana.url + grafana.token)
  --config FILE  configuration file`;

export interface CliIo {
  /** Progress lines (stdout). */
  out?: (line: string) => void;
  /** Error lines (stderr). */
  err?: (line: string) => void;
}

export interface DashboardsCliDeps extends CliIo {
  loadModel: (configPath?: string) => Promise<GenerationModel>;
  /** Lifecycle events to mirror when `grafana.push_annotations` is on. */
  loadEvents?: (configPath?: string) => Promise<LifecycleEvent[]>;
  loadConfig?: (configPath?: string) => Readonly<Config>;
  deps?: Deps;
}

export async function runDashboards(argv: string[], d: DashboardsCliDeps): Promise<number> {
  const out = d.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = d.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let values: { out?: string; push?: boolean; config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        push: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    err(`fleetline dashboards: ${(e as Error).message}\n${DASHBOARDS_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(DASHBOARDS_USAGE);
    return 0;
  }
  let config: Readonly<Config>;
  try {
    config = (d.loadConfig ?? ((file) => loadConfig({ file }).config))(values.config);
  } catch (e) {
    err(`fleetline dashboards: ${(e as Error).message}`);
    return 2;
  }
  const g = config.grafana;
  if (values.push && (!g.url || !g.token)) {
    err(
      'fleetline dashboards: --push needs grafana.url and grafana.token (or FLEETLINE_GRAFANA_URL / FLEETLINE_GRAFANA_TOKEN)',
    );
    return 2;
  }
  const deps: Deps = d.deps ?? {
    log: silentLogger(),
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: false }),
  };
  try {
    const model = { rollupInterval: config.rollup.interval, ...(await d.loadModel(values.config)) };
    const artefacts = generateArtefacts(model, generateOptions(config));
    const dir = values.out ?? g.out_dir;
    const w = await writeArtefacts(dir, artefacts.files);
    out(
      `${dir}: ${artefacts.dashboards.length} dashboards for ${model.roles.length} roles; ` +
        `${w.written.length} files written, ${w.unchanged.length} unchanged, ${w.removed.length} removed`,
    );
    if (!values.push) return 0;
    const client = createGrafanaClient({ url: g.url!, token: g.token! });
    const r = await pushDashboards(
      client,
      artefacts.dashboards,
      { folderUid: g.folder_uid, folderTitle: g.folder_title },
      deps,
    );
    out(`Grafana ${withoutCredentials(g.url!)}: folder ${g.folder_uid} ${r.folder}`);
    for (const x of r.dashboards) out(`  ${x.status.padEnd(9)} ${x.uid}  ${x.title}`);
    if (g.push_annotations && d.loadEvents) {
      const a = await pushAnnotations(client, await d.loadEvents(values.config), deps);
      out(`  annotations: ${a.created} created, ${a.skipped} already present`);
    }
    return 0;
  } catch (e) {
    const hint = e instanceof FleetlineError && e.retryable ? ' (temporary; try again)' : '';
    err(`fleetline dashboards: ${(e as Error).message}${hint}`);
    return 1;
  }
}
