/**
 * JSON Schema validation of request bodies (ajv, all errors collected) with messages that name
 * the field the way a client wrote it: `body.phase: must be one of started, finished`,
 * `body[2].detail.instance-id: is required`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives wrapped.
type AddFormats = (ajv: Ajv, formats?: string[]) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

export type BodyValidator = (value: unknown, path: string) => string[];

/** One ajv instance per caller (no module-level state); compile schemas once at start-up. */
export function createBodyValidator(): { compile(schema: object): BodyValidator } {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, coerceTypes: false });
  addFormats(ajv, ['date-time', 'uri']);
  return {
    compile(schema) {
      const validate: ValidateFunction = ajv.compile(schema);
      return (value, path) => (validate(value) ? [] : formatErrors(validate.errors ?? [], path));
    },
  };
}

function formatErrors(errors: ErrorObject[], root: string): string[] {
  const out = new Set<string>();
  for (const e of errors) {
    const at = root + pointerToPath(e.instancePath);
    switch (e.keyword) {
      case 'required':
        out.add(`${at}${pointerSegment(String(e.params.missingProperty))}: is required`);
        break;
      case 'additionalProperties':
        out.add(
          `${at}${pointerSegment(String(e.params.additionalProperty))}: is not a known field`,
        );
        break;
      case 'enum':
        out.add(`${at}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`);
        break;
      case 'const':
        out.add(`${at}: must be ${JSON.stringify(e.params.allowedValue)}`);
        break;
      default:
        out.add(`${at}: ${e.message ?? 'is invalid'}`);
    }
  }
  return [...out];
}

function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => pointerSegment(raw.replace(/~1/g, '/').replace(/~0/g, '~')))
    .join('');
}

function pointerSegment(key: string): string {
  return /^[0-9]+$/.test(key) ? `[${key}]` : `.${key}`;
}
