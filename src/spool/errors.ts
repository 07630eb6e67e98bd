/**
 * The spool's errors. Each answers the caller's question "retry or not?": a stopping spool or a
 * failed commit means "nothing was stored, try again"; a batch larger than the whole spool can
 * never be stored and must not be retried as is.
 */
import { PayloadTooLargeError, RetryableError } from '../core/errors.ts';

/** The spool is stopping or not started: the batch was not stored. */
export class SpoolStoppedError extends RetryableError {
  constructor(message = 'spool is not accepting batches (stopping or not started)') {
    super('spool_stopped', message, 1000);
  }
}

/** The SQLite commit failed (disk full, I/O error): the batch was not stored. */
export class SpoolCommitError extends RetryableError {
  constructor(cause: unknown) {
    super(
      'spool_commit_failed',
      `spool commit failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      1000,
      { cause },
    );
  }
}

/** A single batch is bigger than `spool.max_bytes`: it could never fit, so waiting is pointless. */
export class BatchLargerThanSpoolError extends PayloadTooLargeError {
  constructor(bytes: number, maxBytes: number) {
    super(
      `batch of ${bytes} encoded bytes is larger than the whole spool (spool.max_bytes = ${maxBytes}); split it into smaller batches`,
    );
  }
}
