/**
 * The Forward input's telemetry events: one counter per kind of outcome, created once per
 * registry. Labels are small closed sets (mode, reason codes from `errors.ts`).
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../../telemetry/metrics.ts';

export interface ForwardMetrics {
  eventsAccepted: Counter;
  eventsInvalid: Counter<'reason'>;
  eventsOffSpec: Counter<'reason'>;
  requests: Counter<'mode'>;
  framesRejected: Counter<'reason'>;
  bytes: Counter;
  acks: Counter;
  consumeFailures: Counter;
  connections: Gauge;
  connectionsTotal: Counter;
  connectionsRefused: Counter<'reason'>;
  connectionsClosed: Counter<'reason'>;
  authFailures: Counter<'reason'>;
  heartbeats: Counter<'transport'>;
}

export function createForwardMetrics(r: Registry): ForwardMetrics {
  return {
    eventsAccepted: counter(
      r,
      'fleetline_forward_events_accepted_total',
      'Forward events handed downstream and accepted',
    ),
    eventsInvalid: counter(
      r,
      'fleetline_forward_events_invalid_total',
      'Forward events skipped as invalid, by reason',
      ['reason'],
    ),
    eventsOffSpec: counter(
      r,
      'fleetline_forward_events_off_spec_total',
      'Forward events accepted with an off-spec encoding (float time)',
      ['reason'],
    ),
    requests: counter(
      r,
      'fleetline_forward_requests_total',
      'Forward requests decoded, by carrier mode',
      ['mode'],
    ),
    framesRejected: counter(
      r,
      'fleetline_forward_frames_rejected_total',
      'Forward requests rejected without ack, by reason',
      ['reason'],
    ),
    bytes: counter(r, 'fleetline_forward_bytes_total', 'bytes received on Forward connections'),
    acks: counter(r, 'fleetline_forward_acks_total', 'acks written to Forward clients'),
    consumeFailures: counter(
      r,
      'fleetline_forward_consume_failures_total',
      'Forward requests refused downstream (connection closed, no ack)',
    ),
    connections: gauge(r, 'fleetline_forward_connections', 'open Forward TCP connections'),
    connectionsTotal: counter(
      r,
      'fleetline_forward_connections_total',
      'Forward TCP connections accepted',
    ),
    connectionsRefused: counter(
      r,
      'fleetline_forward_connections_refused_total',
      'Forward TCP connections refused, by reason',
      ['reason'],
    ),
    connectionsClosed: counter(
      r,
      'fleetline_forward_connections_closed_total',
      'Forward connections closed by fleetline for a limit, by reason',
      ['reason'],
    ),
    authFailures: counter(
      r,
      'fleetline_forward_auth_failures_total',
      'failed Forward shared-key handshakes, by reason',
      ['reason'],
    ),
    heartbeats: counter(
      r,
      'fleetline_forward_heartbeats_total',
      'Forward heartbeats (UDP datagrams, empty TCP connections)',
      ['transport'],
    ),
  };
}
