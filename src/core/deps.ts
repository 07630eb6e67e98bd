/**
 * The plain dependencies every component receives: `createX(config, deps)`.
 * No singletons, no module-level state; tests pass a fake clock and a silent logger.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Deps {
  log: Logger;
  clock: Clock;
  /** Prometheus registry that every component registers its counters in. */
  metrics: Registry;
}
