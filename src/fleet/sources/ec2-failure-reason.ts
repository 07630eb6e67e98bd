/**
 * Classifies an EC2 API failure into a small, fixed set of reasons, used as the `reason` label
 * of `fleetline_ec2_refresh_failures_total` (bounded cardinality) and in the log line, where
 * the exact error name is logged beside it.
 */

export type Ec2FailureReason =
  | 'throttled'
  | 'credentials'
  | 'auth'
  | 'network'
  | 'server'
  | 'invalid_request'
  | 'other';

const THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException',
  'EC2ThrottledException',
  'TooManyRequestsException',
]);

const AUTH_CODES = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'OptInRequired',
  'Blocked',
  'RequestExpired',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function isThrottle(err: unknown): boolean {
  const e = err as SdkErrorShape | undefined;
  return THROTTLE_CODES.has(e?.name ?? '') || THROTTLE_CODES.has(e?.code ?? '');
}

export function failureReason(err: unknown): Ec2FailureReason {
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? '';
  if (isThrottle(err)) return 'throttled';
  if (name === 'CredentialsProviderError' || name === 'ProviderError') return 'credentials';
  if (AUTH_CODES.has(name)) return 'auth';
  if (NETWORK_CODES.has(e.code ?? '') || name === 'TimeoutError' || name === 'AbortError')
    return 'network';
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return 'server';
  if (status !== undefined && status >= 400) return 'invalid_request';
  return 'other';
}
