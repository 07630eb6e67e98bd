/** Small schema pieces shared by the config sections. */
import { type TSchema, Type } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../duration.ts';

export const Duration = (def: string, description: string) =>
  Type.String({ pattern: DURATION_PATTERN, default: def, description });

export const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

export const Bind = (description: string) =>
  Type.String({ minLength: 1, default: '127.0.0.1', description });

/** An object whose unknown keys are errors and whose missing keys take defaults. */
export const Section = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });
