/**
 * Which label names relabelling may create. fleetline uses Prometheus's classic ("legacy")
 * name rule, `[a-zA-Z_][a-zA-Z0-9_]*`, because the names become InfluxDB tag keys and Grafana
 * query identifiers where anything else needs quoting. `__proto__` is refused as well: labels
 * are plain objects and assigning that key would change the object's prototype.
 */

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A `target_label` (or labelmap `replacement`) that may contain `$1` / `${name}` references. */
const LABEL_NAME_TEMPLATE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && name !== '__proto__';
}

export function isValidLabelNameTemplate(template: string): boolean {
  return LABEL_NAME_TEMPLATE.test(template);
}
