/**
 * Errors of the HTTP inputs, and the one function that turns any error into the status,
 * reason label and `Retry-After` an HTTP input answers with.
 *
 * Status comes from `httpStatusFor` (core/errors.ts) except for what only HTTP knows: an
 * unsupported media type (415) and fastify's own errors, which carry `statusCode`.
 */
import {
  BackpressureError,
  httpStatusFor,
  PayloadTooLargeError,
  PermanentError,
  RetryableError,
} from '../../core/errors.ts';

/** The body's Content-Type (or Content-Encoding) is not one this input reads. Never retry. */
export class UnsupportedMediaTypeError extends PermanentError {
  constructor(message: string) {
    super('unsupported_media_type', message);
  }
}

export type RejectReason =
  | 'invalid'
  | 'too_large'
  | 'unsupported_media_type'
  | 'backpressure'
  | 'unavailable'
  | 'internal';

export interface Rejection {
  status: number;
  reason: RejectReason;
  message: string;
  /** Whole seconds for `Retry-After`, only for retryable answers. */
  retryAfterSec?: number;
  /** For unexpected errors: what went wrong, for the log only (never sent to the client). */
  cause?: string;
}

export function rejectionFor(err: unknown): Rejection {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UnsupportedMediaTypeError)
    return { status: 415, reason: 'unsupported_media_type', message };
  if (err instanceof RetryableError) {
    return {
      status: httpStatusFor(err),
      reason: err instanceof BackpressureError ? 'backpressure' : 'unavailable',
      message,
      retryAfterSec: Math.max(1, Math.ceil(err.retryAfterMs / 1000)),
    };
  }
  const fastifyStatus = (err as { statusCode?: unknown } | null)?.statusCode;
  if (!(err instanceof PermanentError) && typeof fastifyStatus === 'number') {
    // fastify's parser errors: body too large, bad JSON, unsupported media type.
    if (fastifyStatus === 413) return { status: 413, reason: 'too_large', message };
    if (fastifyStatus === 415) return { status: 415, reason: 'unsupported_media_type', message };
    if (fastifyStatus >= 400 && fastifyStatus < 500)
      return { status: fastifyStatus, reason: 'invalid', message };
  }
  const status = httpStatusFor(err);
  if (err instanceof PayloadTooLargeError) return { status, reason: 'too_large', message };
  if (status === 400) return { status, reason: 'invalid', message };
  return { status, reason: 'internal', message: 'internal error', cause: message };
}
