/**
 * The command table of the `fleetline` executable. Each entry: a one-line description for
 * `--help`, its usage text, and a runner that returns the exit code. Commands are imported
 * only when used, so `fleetline --help` or `inventory` does not load the AWS SDK, fastify and
 * the whole pipeline first.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface Command {
  summary: string;
  usage(): Promise<string>;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the ingestion service (Forward, HTTP inputs, API, delivery)',
    usage: async () => 'fleetline serve [--config FILE]',
    run: async (argv) => {
      const { values } = parseFlags(argv, { config: { type: 'string', short: 'c' } });
      const { serve } = await import('./serve.ts');
      return serve({ config: values.config });
    },
  },
  dashboards: {
    summary:
      'generate Grafana dashboards, alert rules and provisioning (--push upserts into Grafana)',
    usage: async () => (await import('../generate/cli-dashboards.ts')).DASHBOARDS_USAGE,
    run: async (argv) => {
      const { runDashboards } = await import('../generate/cli-dashboards.ts');
      const { loadOfflineEvents, loadOfflineModel } = await import('./offline-model.ts');
      return runDashboards(argv, { loadModel: loadOfflineModel, loadEvents: loadOfflineEvents });
    },
  },
  inventory: {
    summary: 'dynamic inventory from the fleet registry: Ansible JSON, ssh_config, host list',
    usage: async () => (await import('../generate/cli-inventory.ts')).INVENTORY_USAGE,
    run: async (argv) => {
      const { runInventory } = await import('../generate/cli-inventory.ts');
      const { loadOfflineModel } = await import('./offline-model.ts');
      return runInventory(argv, { loadModel: loadOfflineModel });
    },
  },
  demo: {
    summary: 'run the service and a simulated fleet together, with a live console summary',
    usage: async () => (await import('./demo.ts')).DEMO_USAGE,
    run: async (argv) => (await import('./demo.ts')).runDemo(argv),
  },
  simulate: {
    summary: 'drive a simulated fleet (rolling releases, faults) against a running fleetline',
    usage: async () => (await import('../simulate/cli.ts')).SIMULATE_USAGE,
    run: async (argv) => {
      const { runSimulate } = await import('../simulate/cli.ts');
      const { createLogger } = await import('../telemetry/logger.ts');
      const { systemClock } = await import('../core/deps.ts');
      return runSimulate(argv, {
        log: createLogger(process.env.FLEETLINE_LOG_LEVEL ?? 'warn', process.stderr),
        clock: systemClock,
      });
    },
  },
};

export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}
