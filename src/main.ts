#!/usr/bin/env node
/**
 * The `fleetline` executable: dispatches to a command and turns its result into an exit code.
 * The only place that calls `process.exit`.
 */
import { readFileSync } from 'node:fs';
import { COMMANDS } from './cli/commands.ts';
import { ConfigError } from './config/errors.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return [
    'fleetline — keeps observability continuous on fleets whose servers are replaced',
    '',
    'Usage: fleetline <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    "  -h, --help     show this help (or a command's, after the command)",
    '  -v, --version  print the version',
    '',
    'Configuration: --config FILE, else $FLEETLINE_CONFIG, else ./fleetline.yaml, else defaults.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '-v' || cmd === '--version' || cmd === 'version') {
    process.stdout.write(`fleetline ${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    process.stderr.write(`fleetline: unknown command "${cmd}"\n\n${helpText()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${await command.usage()}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fleetline: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `fleetline ${cmd}: ${(err as Error).message}\nUsage: ${await command.usage()}\n`,
      );
      return 2;
    }
    process.stderr.write(`fleetline ${cmd}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
