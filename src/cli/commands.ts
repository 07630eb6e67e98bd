/**
 * The command table of the `fleetline` executable. Each entry: a one-line description for
 * `--help`, its own usage text, and a runner that returns the exit code.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
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
};

export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}
