/**
 * The named events of the HTTP inputs: entries accepted, body bytes received, requests
 * rejected (by reason). Each rejection bumps its counter and logs one structured line; nothing
 * logs per record or per accepted request.
 *
 *   fleetline_http_entries_accepted_total{input}
 *   fleetline_http_received_bytes_total{input}
 *   fleetline_http_requests_rejected_total{input,reason}
 */
import type { Deps } from '../../core/deps.ts';
import { counter } from '../../telemetry/metrics.ts';
import type { Rejection } from './errors.ts';

export type HttpInputName = 'fluentd' | 'influx-v1' | 'influx-v2' | 'eventbridge' | 'deploys';

export interface InputTelemetry {
  received(bytes: number): void;
  accepted(entries: number): void;
  rejected(rejection: Rejection, peer: string | undefined): void;
}

export function inputTelemetry(deps: Deps, input: HttpInputName): InputTelemetry {
  const accepted = counter(
    deps.metrics,
    'fleetline_http_entries_accepted_total',
    'Entries (or fleet observations) an HTTP input handed downstream and got accepted',
    ['input'],
  );
  const bytes = counter(
    deps.metrics,
    'fleetline_http_received_bytes_total',
    'Request body bytes received by an HTTP input (as sent, before decompression)',
    ['input'],
  );
  const rejected = counter(
    deps.metrics,
    'fleetline_http_requests_rejected_total',
    'HTTP input requests answered with an error, by reason',
    ['input', 'reason'],
  );
  return {
    received: (n) => bytes.inc({ input }, n),
    accepted: (n) => accepted.inc({ input }, n),
    rejected(r, peer) {
      rejected.inc({ input, reason: r.reason });
      const fields = {
        event: 'http_request_rejected',
        input,
        reason: r.reason,
        status: r.status,
        peer,
        error: r.cause ?? r.message,
      };
      // Back-pressure is expected operation, not a client fault.
      if (r.reason === 'backpressure' || r.reason === 'unavailable')
        deps.log.info(fields, 'HTTP input pushed back');
      else if (r.reason === 'internal') deps.log.error(fields, 'HTTP input failed');
      else deps.log.warn(fields, 'HTTP input rejected a request');
    },
  };
}
