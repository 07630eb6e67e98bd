/** Small schema pieces shared by the config sections. */
import { type TSchema, Type } from '@sinclair/typebox';
import { DURATION_PATTERN, TIMER_MAX } from '../duration.ts';

/**
 * A duration that feeds a timer (a timeout, a poll, a retry delay): at most `TIMER_MAX`.
 * `min: '1ms'` where 0 would make the timer spin (a poll every tick, retries back to back, a
 * request aborted as it starts) rather than mean something.
 */
export const Duration = (def: string, description: string, bounds: { min?: string } = {}) =>
  Type.String({
    pattern: DURATION_PATTERN,
    default: def,
    description,
    ...(bounds.min !== undefined ? { minDuration: bounds.min } : {}),
    maxDuration: TIMER_MAX,
  });

/** A duration only used in arithmetic on times (retention, windows), never as a timer. */
export const Span = (def: string, description: string, bounds: { min?: string } = {}) =>
  Type.String({
    pattern: DURATION_PATTERN,
    default: def,
    description,
    ...(bounds.min !== undefined ? { minDuration: bounds.min } : {}),
  });

export const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

export const Bind = (description: string) =>
  Type.String({ minLength: 1, default: '127.0.0.1', description });

/** An object whose unknown keys are errors and whose missing keys take defaults. */
export const Section = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });
