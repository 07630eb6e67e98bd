/**
 * How many entries one HTTP request may carry. A decoded entry costs far more memory than its
 * bytes (an empty msgpack map is 1 byte and ~90 bytes of heap as a record, more as an entry),
 * so `http.max_body_bytes` alone let a few KB of gzip become gigabytes. Matches Forward's
 * `forward.max_entries_per_request` default; more is 413 and nothing of the request is stored.
 */
import { PayloadTooLargeError } from '../../core/errors.ts';

export const DEFAULT_MAX_ENTRIES_PER_REQUEST = 1_000_000;

export function tooManyEntries(limit: number, what: 'records' | 'points'): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `more than ${limit} ${what} in one request; send smaller batches`,
  );
}
