/**
 * What the generators (dashboards, alert rules, inventory) are generated from: plain data read
 * from the registry and the catalog of what fleetline has written. Generators are pure
 * functions of this model, so identical input gives byte-identical output.
 */

export interface RoleModel {
  role: string;
  versions: string[];
  /** Live members now. */
  members: number;
  /** Slots in use now. */
  slots: number[];
}

export interface MeasurementModel {
  /** InfluxDB measurement name as written (after routes). */
  name: string;
  tagKeys: string[];
  /** Field name → InfluxDB field type. */
  fields: Record<string, 'float' | 'integer' | 'string' | 'boolean'>;
}

export interface InstanceModel {
  instanceId: string;
  role: string;
  version: string;
  slot: number;
  az?: string;
  privateIp?: string;
  privateDns?: string;
  launchedAt: number;
  attributes?: Record<string, string>;
}

export interface GenerationModel {
  roles: RoleModel[];
  measurements: MeasurementModel[];
  /** Live instances (inventory). */
  instances: InstanceModel[];
  /**
   * The rollup interval (`rollup.interval`, e.g. `10s`): panels never ask for a finer
   * `$__interval`, or a rate would divide one rollup point by a fraction of its interval.
   * Defaults to `10s`.
   */
  rollupInterval?: string;
}
