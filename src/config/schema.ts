/**
 * The configuration schema: one JSON Schema (written with TypeBox) composed of one section per
 * top-level key. Unknown keys are errors everywhere; every key has a default unless it switches
 * a feature on. `Config` is the validated, defaulted, frozen shape components receive.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ForwardSection } from './sections/forward.ts';
import { GrafanaSection } from './sections/grafana.ts';
import { HttpSection } from './sections/http.ts';
import { InfluxdbSection } from './sections/influxdb.ts';
import { InventorySection } from './sections/inventory.ts';
import {
  LifecycleSection,
  RollupSection,
  SchemaSection,
  SpoolSection,
} from './sections/pipeline.ts';
import { RegistrySection } from './sections/registry.ts';
import { RelabelSection } from './sections/relabel.ts';

export const ConfigSchema = Type.Object(
  {
    data_dir: Type.String({ minLength: 1, default: './data', description: 'embedded state' }),
    log_level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    forward: ForwardSection,
    http: HttpSection,
    influxdb: InfluxdbSection,
    registry: RegistrySection,
    relabel: RelabelSection,
    spool: SpoolSection,
    schema: SchemaSection,
    rollup: RollupSection,
    lifecycle: LifecycleSection,
    grafana: GrafanaSection,
    inventory: InventorySection,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ForwardConfig = Config['forward'];
export type HttpConfig = Config['http'];
export type InfluxdbConfig = NonNullable<Config['influxdb']>;
export type RegistryConfig = Config['registry'];
export type RelabelConfig = Config['relabel'];
export type RelabelRuleConfig = Config['relabel'][number];
export type SpoolConfig = Config['spool'];
export type SchemaConfig = Config['schema'];
export type RollupConfig = Config['rollup'];
export type GrafanaConfig = Config['grafana'];
