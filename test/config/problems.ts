import { ConfigError } from '../../src/config/errors.ts';

/** The problems of the ConfigError `fn` throws (fails the test when it throws none). */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}
