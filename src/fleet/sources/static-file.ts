/**
 * The static inventory source (`registry.static`): reads the inventory file (format in
 * static-inventory.ts) on start and whenever its content changes (checked every `reload`),
 * and reports it to the registry as one `snapshot`. An instance removed from the file is
 * terminated; one given a `terminated_at` ends then (so its late records still resolve).
 *
 * A file that cannot be read or parsed leaves the registry as it was: the error is counted
 * and logged once per distinct problem, and the next good version is applied.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseDuration } from '../../config/duration.ts';
import type { Deps } from '../../core/deps.ts';
import { type Component, component } from '../../core/lifecycle.ts';
import { counter } from '../../telemetry/metrics.ts';
import type { InstanceFacts, Observation, ObservationSink } from '../observation.ts';
import { parseInventory } from './static-inventory.ts';

export interface StaticFileConfig {
  path: string;
  reload: string;
}

export interface StaticFileSource extends Component {
  /** Reads the file now and applies it if it changed; resolves true when it was applied. */
  check(): Promise<boolean>;
}

export function createStaticFileSource(
  config: StaticFileConfig,
  deps: Deps,
  sink: ObservationSink,
): StaticFileSource {
  const reloadMs = parseDuration(config.reload);
  const loads = counter(
    deps.metrics,
    'fleetline_fleet_static_loads_total',
    'static inventory file loads, by outcome',
    ['outcome'],
  );
  let lastHash: string | undefined;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;

  const fail = (problem: string) => {
    loads.inc({ outcome: 'error' });
    if (problem !== lastError) {
      lastError = problem;
      deps.log.warn(
        { event: 'fleet_static_invalid', path: config.path, problem },
        'static inventory not applied; keeping the previous one',
      );
    }
    return false;
  };

  const checkOnce = async (): Promise<boolean> => {
    let text: string;
    try {
      text = await readFile(config.path, 'utf8');
    } catch (err) {
      return fail(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (hash === lastHash) return false;
    const parsed = parseInventory(text);
    if (!parsed.ok) return fail(parsed.errors.join('; '));
    const now = deps.clock.now();
    const observations: Observation[] = [];
    const live: InstanceFacts[] = [];
    for (const f of parsed.instances) {
      // Past instances are reported as running-then-terminated so that they end at their own
      // terminated_at, not at the moment the snapshot notices they are missing.
      if (f.terminatedAt !== undefined) {
        // Without a launched_at it cannot have launched after it ended (the registry would
        // otherwise open it now and end it now, not at its terminated_at).
        const launchedAt = Math.min(f.launchedAt ?? now, f.terminatedAt);
        observations.push({ kind: 'running', at: now, facts: f, launchedAt, source: 'static' });
        observations.push({
          kind: 'terminated',
          at: f.terminatedAt,
          instanceId: f.instanceId,
          source: 'static',
        });
      } else live.push(f);
    }
    observations.push({ kind: 'snapshot', at: now, instances: live, source: 'static' });
    try {
      sink.observe(observations);
    } catch (err) {
      // Not applied: the next check tries the same content again.
      return fail(`registry refused it: ${(err as Error)?.message ?? String(err)}`);
    }
    lastHash = hash;
    lastError = undefined;
    loads.inc({ outcome: 'applied' });
    deps.log.info(
      { event: 'fleet_static_loaded', path: config.path, instances: parsed.instances.length },
      'static inventory applied',
    );
    return true;
  };

  // One check at a time: a slow read must not overlap the next tick.
  const check = () => {
    running ??= checkOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  const lifecycle = component('fleet-static-file', {
    async start() {
      await check();
      timer = setInterval(() => void check(), reloadMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  });
  return { ...lifecycle, check };
}
