/**
 * EC2 discovery (`registry.ec2`): lists the fleet with DescribeInstances every
 * `refresh_interval` and reports what it saw to the registry (see ec2-facts.ts for exactly
 * which observations one refresh produces).
 *
 * - The real `@aws-sdk/client-ec2`, with `region`, optional `endpoint`, and credentials from
 *   the SDK's standard chain (environment, shared config/SSO, web identity, container/instance
 *   metadata). Nothing here reads or logs credentials.
 * - All pages are read (`NextToken`, MaxResults = `page_size`) before anything is reported:
 *   a snapshot must be complete, or the registry would end instances on the missing pages.
 *   Its observations are dated when the listing was asked for (see ec2-facts.ts `now`).
 * - Throttling: the SDK's standard retry strategy retries `RequestLimitExceeded` and 5xx with
 *   jittered backoff up to `max_attempts` per call; every throttled attempt is counted. When a
 *   refresh still fails, the loop backs off (interval × 2^failures, capped at `max_backoff`),
 *   keeps the last reported fleet, logs one line with the reason, and never throws.
 * - `start()` begins the first refresh and returns without waiting for it (credentials or the
 *   network may be slow; records of not-yet-known instances are held by the registry).
 *   `stop()` aborts an in-flight call, waits for it, and reports nothing afterwards.
 */
import {
  EC2Client,
  type Filter,
  type Instance,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { parseDuration } from '../../config/duration.ts';
import type { RegistryConfig } from '../../config/schema.ts';
import type { Deps } from '../../core/deps.ts';
import { type Component, component } from '../../core/lifecycle.ts';
import { counter, gauge } from '../../telemetry/metrics.ts';
import type { ObservationSink } from '../observation.ts';
import { imagesNeedingVersion, observationsFromListing } from './ec2-facts.ts';
import { failureReason, isThrottle } from './ec2-failure-reason.ts';
import { type AmiVersionCache, createAmiVersionCache } from './ec2-image-versions.ts';

export type Ec2Config = NonNullable<RegistryConfig['ec2']>;

export interface Ec2Source extends Component {
  /** Runs one refresh now (outside the schedule); resolves true when it succeeded. */
  refreshNow(): Promise<boolean>;
}

export function createEc2Source(config: Ec2Config, deps: Deps, sink: ObservationSink): Ec2Source {
  const intervalMs = parseDuration(config.refresh_interval);
  const maxBackoffMs = Math.max(parseDuration(config.max_backoff), intervalMs);
  const metrics = ec2Metrics(deps);

  let client: EC2Client | undefined;
  let images: AmiVersionCache | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<boolean> | undefined;
  let abort: AbortController | undefined;
  let stopped = false;
  let consecutiveFailures = 0;
  let previousRunning: ReadonlySet<string> = new Set();
  let previousTerminated: ReadonlySet<string> = new Set();

  function makeClient(): EC2Client {
    const c = new EC2Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      maxAttempts: config.max_attempts,
      retryMode: 'standard',
    });
    // Runs inside the retry loop (deserialize step), so it sees every attempt's error.
    c.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (isThrottle(err)) metrics.throttles.inc();
          throw err;
        }
      },
      { step: 'deserialize', name: 'fleetlineEc2ThrottleCounter', priority: 'high' },
    );
    return c;
  }

  async function listInstances(ec2: EC2Client, signal: AbortSignal): Promise<Instance[]> {
    const filters: Filter[] = config.filters.map((f) => ({ Name: f.name, Values: [...f.values] }));
    const instances: Instance[] = [];
    const pages = paginateDescribeInstances(
      { client: ec2, pageSize: config.page_size, stopOnSameToken: true },
      filters.length > 0 ? { Filters: filters } : {},
      { abortSignal: signal },
    );
    for await (const page of pages) {
      for (const reservation of page.Reservations ?? [])
        instances.push(...(reservation.Instances ?? []));
    }
    return instances;
  }

  async function refresh(): Promise<boolean> {
    if (!client || stopped) return false;
    const controller = new AbortController();
    abort = controller;
    // A listing tells what was true when it was asked for, not when its last page arrived: an
    // end pushed by EventBridge in between is newer than anything it says.
    const askedAt = deps.clock.now();
    try {
      const instances = await listInstances(client, controller.signal);
      const amiVersions =
        images && config.ami_version_tag
          ? await images.versions(
              imagesNeedingVersion(instances, config.version_tag),
              controller.signal,
            )
          : new Map<string, string>();
      if (stopped) return false;
      const result = observationsFromListing(instances, {
        now: askedAt,
        roleTag: config.role_tag,
        versionTag: config.version_tag,
        amiVersions,
        previousRunning,
        previousTerminated,
      });
      // Observed first: when the registry refuses them (it could not persist), this refresh
      // failed, and the next one must report its launches and terminations again.
      sink.observe(result.observations);
      previousRunning = result.running;
      previousTerminated = result.terminated;
      consecutiveFailures = 0;
      metrics.refreshes.inc();
      metrics.seen.inc({ state: 'running' }, result.running.size);
      metrics.seen.inc({ state: 'terminated' }, result.terminated.size);
      metrics.current.set(result.running.size);
      return true;
    } catch (err) {
      if (stopped) return false;
      consecutiveFailures++;
      const reason = failureReason(err);
      metrics.failures.inc({ reason });
      deps.log.warn(
        {
          event: 'ec2_refresh_failed',
          reason,
          error: err instanceof Error ? err.name : 'unknown',
          detail: err instanceof Error ? err.message : String(err),
          attempts: attemptsOf(err),
          consecutive_failures: consecutiveFailures,
          retry_in_ms: nextDelay(),
        },
        'EC2 DescribeInstances refresh failed; keeping the last known fleet',
      );
      return false;
    } finally {
      if (abort === controller) abort = undefined;
    }
  }

  function nextDelay(): number {
    if (consecutiveFailures === 0) return intervalMs;
    return Math.min(intervalMs * 2 ** Math.min(consecutiveFailures, 30), maxBackoffMs);
  }

  function run(): Promise<boolean> {
    if (inflight) return inflight;
    const current = refresh().finally(() => {
      inflight = undefined;
    });
    inflight = current;
    return current;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void run().then(() => schedule(nextDelay()));
    }, delayMs);
  }

  const lifecycle = component('ec2-source', {
    start() {
      client = makeClient();
      if (config.ami_version_tag)
        images = createAmiVersionCache({ client, tag: config.ami_version_tag }, deps);
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      abort?.abort();
      // The abort ends the HTTP request at once, but not every wait inside the SDK listens to
      // it (credential-provider timeouts, retry sleeps); nothing is reported after stop anyway,
      // so do not let them hold up shutdown.
      if (inflight) await settledWithin(inflight, STOP_WAIT_MS);
      client?.destroy();
      client = undefined;
    },
  });

  return {
    ...lifecycle,
    refreshNow: () => (stopped || !client ? Promise.resolve(false) : run()),
  };
}

/** How long stop() waits for an aborted refresh to unwind. */
const STOP_WAIT_MS = 1000;

async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function ec2Metrics(deps: Deps) {
  return {
    refreshes: counter(
      deps.metrics,
      'fleetline_ec2_refreshes_total',
      'EC2 DescribeInstances refreshes that completed and were reported',
    ),
    failures: counter(
      deps.metrics,
      'fleetline_ec2_refresh_failures_total',
      'EC2 refreshes that failed after the SDK retries, by reason',
      ['reason'],
    ),
    throttles: counter(
      deps.metrics,
      'fleetline_ec2_throttles_total',
      'EC2 API attempts answered with throttling (RequestLimitExceeded and similar)',
    ),
    seen: counter(
      deps.metrics,
      'fleetline_ec2_instances_seen_total',
      'Instances listed by successful refreshes, by state (running = pending/running)',
      ['state'],
    ),
    current: gauge(
      deps.metrics,
      'fleetline_ec2_instances',
      'Pending/running instances in the last successful EC2 listing',
    ),
  };
}

function attemptsOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { attempts?: number } } | undefined)?.$metadata;
  return meta?.attempts;
}
