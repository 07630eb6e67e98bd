/**
 * How many entries one HTTP request may carry (src/core/limits.ts says why): more is 413 and
 * nothing of the request is stored.
 */
import { PayloadTooLargeError } from '../../core/errors.ts';

export { DEFAULT_MAX_ENTRIES_PER_REQUEST } from '../../core/limits.ts';

export function tooManyEntries(limit: number, what: 'records' | 'points'): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `more than ${limit} ${what} in one request; send smaller batches`,
  );
}
