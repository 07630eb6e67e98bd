/**
 * Loading configuration: find the file, parse YAML, apply environment overrides, validate
 * against the schema (collecting *all* errors, each with its key path), fill defaults, run the
 * semantic checks the schema cannot express (regexes compile), and freeze the result.
 *
 * File resolution: `--config FILE`, else `$FLEETLINE_CONFIG`, else `./fleetline.yaml` when it
 * exists, else defaults only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LineCounter, parseDocument } from 'yaml';
import { compileAsgNamePattern } from '../ingest/http/eventbridge.ts';
import { RelabelConfigError } from '../relabel/errors.ts';
import { compileRules } from '../relabel/rules.ts';
import { DURATION_PATTERN, parseDuration } from './duration.ts';
import { applyEnv, envKeys } from './env.ts';
import { ConfigError } from './errors.ts';
import { type Config, ConfigSchema } from './schema.ts';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
addFormats(ajv);
// Bounds on durations (see duration.ts), checked here with the other shape errors so that all
// problems are still reported at once, each with its key path. A string that is not a
// duration at all is left to `pattern`.
const durationShape = new RegExp(DURATION_PATTERN);
type DurationCheck = ((data: string) => boolean) & { errors?: Partial<ErrorObject>[] };
for (const [keyword, exceeds, word] of [
  ['minDuration', (v: number, limit: number) => v < limit, 'least'],
  ['maxDuration', (v: number, limit: number) => v > limit, 'most'],
] as const) {
  ajv.addKeyword({
    keyword,
    type: 'string',
    schemaType: 'string',
    errors: true,
    compile(limitText: string) {
      const limit = parseDuration(limitText);
      const check: DurationCheck = (data: string) => {
        if (!durationShape.test(data)) return true;
        if (!exceeds(parseDuration(data), limit)) return true;
        check.errors = [
          { keyword, params: { limit: limitText }, message: `must be at ${word} ${limitText}` },
        ];
        return false;
      };
      return check;
    },
  });
}
const validate = ajv.compile(ConfigSchema);

export interface LoadOptions {
  /** Explicit `--config FILE`. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** Where the file came from, or `defaults`. */
  source: string;
  /** Names of the environment variables that overrode a key. */
  overrides: string[];
  /**
   * `FLEETLINE_*` variables that set no key — most likely misspelled (a typo in
   * `FLEETLINE_FORWARD_SHARED_KEY` would leave Forward open). Names only, never values.
   */
  unknownEnv: string[];
  /**
   * Variables of real keys that are set but empty, and therefore ignored (`FLEETLINE_HTTP_TOKEN=`
   * from an unset shell variable would otherwise leave the API open without a word).
   */
  emptyEnv: string[];
}

/** `FLEETLINE_*` names that are not configuration keys but are read on purpose. */
const OTHER_ENV = new Set(['FLEETLINE_CONFIG', 'FLEETLINE_LOG_LEVEL']);

export function resolveConfigFile(opts: LoadOptions): string | undefined {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.file) return resolve(cwd, opts.file);
  if (env.FLEETLINE_CONFIG) return resolve(cwd, env.FLEETLINE_CONFIG);
  const local = resolve(cwd, 'fleetline.yaml');
  return existsSync(local) ? local : undefined;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = resolveConfigFile(opts);
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read ${file}: ${(err as Error).message}`], file);
    }
    raw = parseYamlFile(text, file);
  }
  return parseConfig(raw, { env, source: file ?? 'defaults' });
}

/**
 * Parses the file's YAML. Problems name the line and column but never quote the file: the yaml
 * library's own messages (and the warnings it would print to stderr) show the offending line,
 * which is often the one holding `shared_key:` or a token. Warnings are problems too: an
 * unresolved tag (`!vault …`, `!env …`, meant for another tool) would otherwise quietly become
 * the literal text.
 */
function parseYamlFile(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'silent' });
  const problems = [...doc.errors, ...doc.warnings].map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return `${file}: not valid YAML at line ${line}, column ${col}: ${e.message}`;
  });
  if (problems.length > 0) throw new ConfigError(problems, file);
  try {
    return doc.toJS() ?? {};
  } catch (err) {
    // e.g. too many alias expansions; the message names no content.
    throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message}`], file);
  }
}

/** Validates an already-parsed document (tests use this directly). */
export function parseConfig(
  raw: unknown,
  opts: { env?: NodeJS.ProcessEnv; source?: string } = {},
): LoadedConfig {
  const source = opts.source ?? 'inline';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(['(root): must be a mapping of keys to values'], source);
  }
  const doc = structuredClone(raw) as Record<string, unknown>;
  const keys = envKeys(ConfigSchema);
  const env = opts.env ?? {};
  const overrides = applyEnv(doc, keys, env);
  const known = new Set(keys.map((k) => k.name));
  const unknownEnv = Object.keys(env)
    .filter(
      (k) =>
        k.startsWith('FLEETLINE_') &&
        !known.has(k) &&
        !OTHER_ENV.has(k) &&
        !k.startsWith('FLEETLINE_TEST_'),
    )
    .sort();
  const emptyEnv = keys
    .map((k) => k.name)
    .filter((name) => env[name] === '')
    .sort();
  if (!validate(doc)) {
    throw new ConfigError(formatErrors(validate.errors ?? []), source);
  }
  const config = doc as Config;
  const problems = semanticProblems(config);
  if (problems.length > 0) throw new ConfigError(problems, source);
  return { config: deepFreeze(config), source, overrides, unknownEnv, emptyEnv };
}

/** Turns ajv errors into `key.path: message` lines, one per problem, without duplicates. */
export function formatErrors(errors: readonly ErrorObject[]): string[] {
  const out = new Set<string>();
  // A failed union reports one error per branch plus an "anyOf" summary; keep the summary.
  const unionPaths = new Set(
    errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath),
  );
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && unionPaths.has(e.instancePath)) continue;
    const base = pointerToPath(e.instancePath);
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      out.add(`${join(base, key)}: unknown key`);
    } else if (e.keyword === 'anyOf') {
      const allowed = literalsAt(e.schemaPath);
      out.add(
        `${base || '(root)'}: ${allowed ? `must be one of ${allowed}` : 'has the wrong type'}`,
      );
    } else if (e.keyword === 'format') {
      out.add(
        `${base}: must be a ${(e.params as { format: string }).format === 'uri' ? 'URL' : (e.params as { format: string }).format}`,
      );
    } else if (e.keyword === 'pattern' && base.endsWith('url')) {
      const hasFormatError = errors.some(
        (o) => o.keyword === 'format' && o.instancePath === e.instancePath,
      );
      if (!hasFormatError) out.add(`${base}: must be an http(s) URL`);
    } else {
      out.add(`${base || '(root)'}: ${e.message ?? 'is invalid'}`);
    }
  }
  return [...out];
}

function literalsAt(schemaPath: string): string | undefined {
  // schemaPath looks like "#/properties/influxdb/properties/api/anyOf"
  const parts = schemaPath.replace(/^#\//, '').split('/').slice(0, -1);
  let node: unknown = ConfigSchema;
  for (const p of parts) node = (node as Record<string, unknown> | undefined)?.[p];
  const anyOf = (node as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (!anyOf?.every((a) => a.const !== undefined)) return undefined;
  return anyOf.map((a) => JSON.stringify(a.const)).join(', ');
}

function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : join(acc, seg)), '');
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/** Checks the schema cannot express. */
function semanticProblems(config: Config): string[] {
  const problems: string[] = [];
  // Relabel rules are compiled exactly as the relabel stage will (RE2 syntax translated, Go
  // templates checked), so a rule that loads is a rule that runs.
  try {
    compileRules(config.relabel);
  } catch (err) {
    if (err instanceof RelabelConfigError) problems.push(...err.problems);
    else throw err;
  }
  // Fail closed: users are checked inside the shared-key handshake, and without a shared key
  // there is no handshake, so the listed users would silently protect nothing.
  if (config.forward.users.length > 0 && !config.forward.shared_key) {
    problems.push(
      'forward.users: user authentication needs forward.shared_key (it is part of the shared-key handshake)',
    );
  }
  // HTTP strips leading and trailing whitespace from header values (a YAML block scalar adds
  // a newline), so such a token could never match as Bearer/Token. Never printed.
  const token = config.http.token;
  if (token !== undefined && token !== token.replace(/^\s+|\s+$/g, '')) {
    problems.push(
      'http.token: must not start or end with whitespace (HTTP drops it from headers, so a Bearer token could never match)',
    );
  }
  // Compiled exactly as the EventBridge route will, which otherwise throws while the service
  // is being built, after every other problem was reported.
  try {
    compileAsgNamePattern(config.http.asg_role_pattern);
  } catch (err) {
    problems.push((err as Error).message);
  }
  // The rollup engine refuses this too, but only once the service is being built.
  const r = config.rollup;
  if (
    parseDuration(r.retention) <=
    parseDuration(r.interval) + parseDuration(r.grace) + parseDuration(r.lateness)
  ) {
    problems.push(
      `rollup.retention: must be longer than rollup.interval + rollup.grace + rollup.lateness (${r.interval} + ${r.grace} + ${r.lateness})`,
    );
  }
  const influx = config.influxdb;
  if (influx?.api === 'v2' && (!influx.org || !influx.bucket)) {
    problems.push('influxdb: api v2 needs both influxdb.org and influxdb.bucket');
  }
  // The writer sends basic auth only with both; one alone was dropped without a word.
  if (influx && !influx.username !== !influx.password) {
    problems.push('influxdb: username and password go together (v1 basic auth)');
  }
  // The annotation mirror needs both, and was otherwise simply not created.
  const grafana = config.grafana;
  if (grafana.push_annotations && (!grafana.url || !grafana.token)) {
    problems.push('grafana.push_annotations: needs grafana.url and grafana.token');
  }
  if (config.forward.tls?.cert && !existsSync(config.forward.tls.cert)) {
    problems.push(`forward.tls.cert: file not found: ${config.forward.tls.cert}`);
  }
  if (config.forward.tls?.key && !existsSync(config.forward.tls.key)) {
    problems.push(`forward.tls.key: file not found: ${config.forward.tls.key}`);
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Defaults only: what `npm start` runs with when no file exists. */
export function defaultConfig(env: NodeJS.ProcessEnv = {}): Readonly<Config> {
  return parseConfig({}, { env, source: 'defaults' }).config;
}
