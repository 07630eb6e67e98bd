/** Configuration errors: every problem found, each prefixed with its key path. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(
    readonly problems: readonly string[],
    readonly source: string,
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
