/**
 * Mirrors lifecycle events into Grafana as annotations while the service runs, when
 * `grafana.push_annotations` is on and `grafana.url`/`grafana.token` are set. Best effort and
 * in order: the durable copy of every event is `fleet_events` in InfluxDB (which the generated
 * dashboards annotate from); a failed push is logged and counted, and `fleetline dashboards
 * --push` mirrors whatever is missing (pushing is idempotent per event id).
 */
import type { GrafanaConfig } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { counter } from '../telemetry/metrics.ts';
import { pushAnnotations } from './grafana-annotations.ts';
import { createGrafanaClient } from './grafana-client.ts';

export interface AnnotationMirror {
  mirror(events: readonly LifecycleEvent[]): void;
}

export function createAnnotationMirror(
  config: GrafanaConfig,
  deps: Deps,
): AnnotationMirror | undefined {
  if (!config.push_annotations || !config.url || !config.token) return undefined;
  const client = createGrafanaClient({ url: config.url, token: config.token });
  const failures = counter(
    deps.metrics,
    'fleetline_generate_annotation_failures_total',
    'lifecycle events that could not be mirrored to Grafana',
  );
  let chain: Promise<unknown> = Promise.resolve();
  return {
    mirror(events) {
      const batch = [...events];
      chain = chain
        .then(() => pushAnnotations(client, batch, deps))
        .catch((err: Error) => {
          failures.inc(batch.length);
          deps.log.warn(
            { event: 'grafana_annotations_failed', reason: err.message, events: batch.length },
            'could not mirror lifecycle events to Grafana',
          );
        });
    },
  };
}
