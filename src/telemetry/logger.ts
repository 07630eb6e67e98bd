/**
 * Structured JSON logs (pino). Secrets never reach the log: the redact list covers every
 * config key that can hold one, and request headers that carry credentials.
 */
import { type Logger, pino } from 'pino';

export const REDACT_PATHS = [
  'config.forward.shared_key',
  'config.forward.users[*].password',
  'config.http.token',
  'config.influxdb.token',
  'config.influxdb.password',
  'config.grafana.token',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'shared_key',
  'token',
  'password',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fleetline' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination ?? process.stdout,
  );
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
