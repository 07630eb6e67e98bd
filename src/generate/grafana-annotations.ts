/**
 * Mirrors lifecycle events into Grafana's own annotation store (`POST /api/annotations`) as
 * organisation annotations tagged `fleetline`, `role:<role>`, `kind:<kind>`, for setups that
 * show markers through Grafana's built-in source instead of the `fleet_events` query. Each
 * carries `event:<id>` too, so mirroring the same event again is skipped, not duplicated.
 */
import type { Deps } from '../core/deps.ts';
import type { LifecycleEvent } from '../fleet/lifecycle-event.ts';
import { counter } from '../telemetry/metrics.ts';
import type { GrafanaClient } from './grafana-client.ts';

export function annotationTags(e: LifecycleEvent): string[] {
  return ['fleetline', `role:${e.role}`, `kind:${e.kind}`, `event:${e.id}`];
}

export async function pushAnnotations(
  client: GrafanaClient,
  events: readonly LifecycleEvent[],
  deps: Deps,
): Promise<{ created: number; skipped: number }> {
  const created = counter(
    deps.metrics,
    'fleetline_generate_annotations_pushed_total',
    'Lifecycle events mirrored as Grafana annotations',
  );
  let made = 0;
  let skipped = 0;
  for (const e of events) {
    const tags = annotationTags(e);
    const query = new URLSearchParams([
      ['tags', 'fleetline'],
      ['tags', `event:${e.id}`],
      ['type', 'annotation'],
      ['limit', '1'],
    ]);
    const existing = await client.request<unknown[]>('GET', `/api/annotations?${query}`);
    if (existing && existing.length > 0) {
      skipped += 1;
      continue;
    }
    await client.request('POST', '/api/annotations', { time: e.time, tags, text: e.text });
    created.inc();
    made += 1;
  }
  if (made > 0)
    deps.log.info(
      { event: 'grafana_annotations_pushed', created: made, skipped },
      `mirrored ${made} lifecycle events to Grafana`,
    );
  return { created: made, skipped };
}
