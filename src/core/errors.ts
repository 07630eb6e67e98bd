/**
 * Errors shared across stages. Each answers the caller's real question: retry or not?
 *
 * - `RetryableError`: the data was not accepted, nothing is lost, try again later
 *   (`retryAfterMs` is a hint). Back-pressure is one of these.
 * - `PermanentError`: the data can never be accepted as sent; do not retry it.
 *
 * `httpStatusFor` is the one place the classification becomes an HTTP status code.
 */
export class FleetlineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class RetryableError extends FleetlineError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterMs = 1000,
    options?: { cause?: unknown },
  ) {
    super(code, message, true, options);
  }
}

/** The spool (or another bounded stage) is full: push back. */
export class BackpressureError extends RetryableError {
  constructor(message = 'fleetline is at capacity, retry later', retryAfterMs = 1000) {
    super('backpressure', message, retryAfterMs);
  }
}

export class PermanentError extends FleetlineError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, false, options);
  }
}

/** Input that cannot be accepted as sent (bad body, bad line, wrong type). */
export class InvalidInputError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_input', message, options);
  }
}

export class PayloadTooLargeError extends PermanentError {
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

/** Maps any error to the HTTP status an input should answer with. */
export function httpStatusFor(err: unknown): number {
  if (err instanceof BackpressureError) return 503;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof InvalidInputError) return 400;
  if (err instanceof RetryableError) return 503;
  if (err instanceof PermanentError) return 400;
  return 500;
}
