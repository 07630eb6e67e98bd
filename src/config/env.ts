/**
 * Environment overrides: every scalar key of the schema can be set as
 * `FLEETLINE_<PATH>` with the path's segments upper-cased and joined by `_`
 * (`influxdb.url` → `FLEETLINE_INFLUXDB_URL`, `forward.tls.cert` → `FLEETLINE_FORWARD_TLS_CERT`).
 * Arrays take JSON (`FLEETLINE_SCHEMA_TAG_KEYS='["level"]'`). Values are coerced by the
 * schema's type; a value that does not fit is reported by validation with its key path.
 */
import type { TSchema } from '@sinclair/typebox';

export interface EnvKey {
  name: string;
  path: string[];
  type: string;
}

/** Lists every overridable key of an object schema (recursing into nested objects). */
export function envKeys(schema: TSchema, prefix: string[] = []): EnvKey[] {
  const out: EnvKey[] = [];
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  const inner = props ? schema : unwrapOptionalObject(schema);
  const innerProps = (inner as { properties?: Record<string, TSchema> } | undefined)?.properties;
  if (!innerProps) return out;
  for (const [key, sub] of Object.entries(innerProps)) {
    const path = [...prefix, key];
    const obj = unwrapOptionalObject(sub);
    if (obj && (sub as { type?: string }).type !== 'array') {
      out.push(...envKeys(obj, path));
    } else {
      out.push({ name: `FLEETLINE_${path.join('_').toUpperCase()}`, path, type: typeOf(sub) });
    }
  }
  return out;
}

function unwrapOptionalObject(s: TSchema): TSchema | undefined {
  const x = s as { type?: string; properties?: unknown; anyOf?: TSchema[] };
  if (x.type === 'object' && x.properties) return s;
  return undefined;
}

function typeOf(s: TSchema): string {
  const x = s as { type?: string; anyOf?: { type?: string; const?: unknown }[] };
  if (x.type) return x.type;
  if (x.anyOf?.every((a) => typeof a.const === 'string')) return 'string';
  return 'string';
}

/** Applies overrides from `env` onto a plain (unvalidated) config object, in place. */
export function applyEnv(
  config: Record<string, unknown>,
  keys: readonly EnvKey[],
  env: NodeJS.ProcessEnv,
): string[] {
  const applied: string[] = [];
  for (const k of keys) {
    const raw = env[k.name];
    if (raw === undefined || raw === '') continue;
    let target = config;
    for (const seg of k.path.slice(0, -1)) {
      const next = target[seg];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[seg] = {};
      target = target[seg] as Record<string, unknown>;
    }
    target[k.path.at(-1)!] = coerce(raw, k.type);
    applied.push(k.name);
  }
  return applied;
}

function coerce(raw: string, type: string): unknown {
  switch (type) {
    case 'integer':
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array':
    case 'object':
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}
