/**
 * The command table of the `fleetline` executable. Each entry: a one-line description for
 * `--help`, its own usage text, and a runner that returns the exit code.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { systemClock } from '../core/deps.ts';
import { DASHBOARDS_USAGE, runDashboards } from '../generate/cli-dashboards.ts';
import { INVENTORY_USAGE, runInventory } from '../generate/cli-inventory.ts';
import { runSimulate, SIMULATE_USAGE } from '../simulate/cli.ts';
import { createLogger } from '../telemetry/logger.ts';
import { DEMO_USAGE, runDemo } from './demo.ts';
import { loadOfflineEvents, loadOfflineModel } from './offline-model.ts';
import { serve } from './serve.ts';

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the ingestion service (Forward, HTTP inputs, API, delivery)',
    usage: 'fleetline serve [--config FILE]',
    run: async (argv) => {
      const { values } = parseFlags(argv, { config: { type: 'string', short: 'c' } });
      return serve({ config: values.config });
    },
  },
  dashboards: {
    summary:
      'generate Grafana dashboards, alert rules and provisioning (--push upserts into Grafana)',
    usage: DASHBOARDS_USAGE,
    run: (argv) =>
      runDashboards(argv, { loadModel: loadOfflineModel, loadEvents: loadOfflineEvents }),
  },
  inventory: {
    summary: 'dynamic inventory from the fleet registry: Ansible JSON, ssh_config, host list',
    usage: INVENTORY_USAGE,
    run: (argv) => runInventory(argv, { loadModel: loadOfflineModel }),
  },
  demo: {
    summary: 'run the service and a simulated fleet together, with a live console summary',
    usage: DEMO_USAGE,
    run: (argv) => runDemo(argv),
  },
  simulate: {
    summary: 'drive a simulated fleet (rolling releases, faults) against a running fleetline',
    usage: SIMULATE_USAGE,
    run: (argv) =>
      runSimulate(argv, {
        log: createLogger(process.env.FLEETLINE_LOG_LEVEL ?? 'warn', process.stderr),
        clock: systemClock,
      }),
  },
};

export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}
