/**
 * Plays a planned scenario against a running fleetline: starts one agent per live instance,
 * emits records on a tick, launches/terminates instances as the plan says (scaled by `speed`),
 * and sends lifecycle signals (EventBridge-shaped events, or nothing beyond record labels).
 *
 * Deterministic given a seed: the plan, the instance IDs and the record contents come from one
 * seeded RNG. Wall-clock timing (when exactly a tick fires) is not, so counts are reported.
 */
import type { Deps } from '../core/deps.ts';
import { type Component, component } from '../core/lifecycle.ts';
import { type Agent, type AgentCounts, type AgentOptions, createAgent } from './agents.ts';
import {
  asgLaunch,
  asgTerminate,
  type EventBridgeEvent,
  ec2StateChange,
} from './eventbridge-events.ts';
import { createRng } from './random.ts';
import {
  type Plan,
  type PlanStep,
  planScenario,
  type ScenarioSpec,
  type SimInstance,
} from './scenario.ts';
import { recordsFor, type TrafficSpec } from './traffic.ts';

export interface SimulatorOptions {
  scenario: ScenarioSpec;
  traffic: TrafficSpec;
  seed: number;
  /** Simulated time runs `speed` times faster than the wall clock. */
  speed: number;
  /** Records per second per instance (wall-clock). */
  rate: number;
  forward: AgentOptions;
  /** `eventbridge`: also POST AWS-shaped lifecycle events to fleetline's HTTP API. */
  lifecycle: 'eventbridge' | 'records';
  http?: { url: string; token?: string };
  tickMs?: number;
}

export interface SimulatorStats extends AgentCounts {
  live: number;
  launches: number;
  terminations: number;
  faults: number;
  releases: number;
  eventsPosted: number;
  eventsFailed: number;
  /** Wall ms since start. */
  elapsedMs: number;
  done: boolean;
}

export interface Simulator extends Component {
  readonly plan: Plan;
  stats(): SimulatorStats;
  /** Resolves when the plan has been played to its end (or stop() was called). */
  finished(): Promise<void>;
  /** Live simulated instances right now. */
  live(): SimInstance[];
}

export function createSimulator(
  opts: SimulatorOptions,
  deps: Pick<Deps, 'log' | 'clock'>,
): Simulator {
  const rng = createRng(opts.seed);
  const plan = planScenario(opts.scenario, rng);
  // Record contents and event ids use their own stream so they don't disturb the plan.
  const trafficRng = createRng(opts.seed ^ 0x5bd1e995);
  const tickMs = opts.tickMs ?? 250;

  const counts: AgentCounts = { sent: 0, acked: 0, failed: 0 };
  const stats = {
    launches: 0,
    terminations: 0,
    faults: 0,
    releases: 0,
    eventsPosted: 0,
    eventsFailed: 0,
  };
  const agents = new Map<string, { inst: SimInstance; agent: Agent; sending: boolean }>();
  const retiring = new Set<Promise<void>>();
  const posts = new Set<Promise<void>>();
  let startedAt = 0;
  let stepIndex = 0;
  let ticker: NodeJS.Timeout | undefined;
  let done = false;
  let resolveFinished!: () => void;
  const finishedPromise = new Promise<void>((r) => {
    resolveFinished = r;
  });
  let carry = 0;

  const post = (events: EventBridgeEvent[]) => {
    if (opts.lifecycle !== 'eventbridge' || !opts.http) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.http.token) headers.authorization = `Bearer ${opts.http.token}`;
    const p = fetch(`${opts.http.url}/ingest/eventbridge`, {
      method: 'POST',
      headers,
      body: JSON.stringify(events),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.ok) stats.eventsPosted += events.length;
        else {
          stats.eventsFailed += events.length;
          deps.log.warn(
            { event: 'simulate_event_rejected', status: res.status },
            'fleetline rejected a lifecycle event',
          );
        }
      })
      .catch((err: Error) => {
        stats.eventsFailed += events.length;
        deps.log.warn(
          { event: 'simulate_event_failed', reason: err.message },
          'could not post a lifecycle event',
        );
      })
      .finally(() => posts.delete(p));
    posts.add(p);
  };

  const launch = (inst: SimInstance, at: number, cause?: 'release' | 'fault') => {
    agents.set(inst.instanceId, {
      inst,
      agent: createAgent(inst.instanceId, opts.forward, counts),
      sending: true,
    });
    stats.launches++;
    post([
      ec2StateChange(trafficRng, inst.instanceId, 'pending', at),
      ec2StateChange(trafficRng, inst.instanceId, 'running', at),
      ...(cause ? [asgLaunch(trafficRng, inst, at, cause)] : []),
    ]);
  };

  const apply = (step: PlanStep, at: number) => {
    switch (step.kind) {
      case 'release_start':
        stats.releases++;
        deps.log.info(
          { event: 'simulate_release', role: step.role, from: step.from, to: step.to },
          'rolling release',
        );
        break;
      case 'launch':
        launch(step.instance, at, step.cause);
        break;
      case 'in_service':
        break;
      case 'fault': {
        const a = agents.get(step.instanceId);
        if (a) a.sending = false;
        stats.faults++;
        break;
      }
      case 'terminate': {
        const a = agents.get(step.instanceId);
        if (!a) break;
        agents.delete(step.instanceId);
        // Let the terminated instance's agent finish its in-flight chunks, then hang up.
        const closing = a.agent.drain(30_000).then(() => a.agent.close());
        retiring.add(closing);
        void closing.finally(() => retiring.delete(closing));
        stats.terminations++;
        post([
          ec2StateChange(trafficRng, step.instanceId, 'shutting-down', at),
          asgTerminate(trafficRng, a.inst, at, step.cause),
          ec2StateChange(trafficRng, step.instanceId, 'terminated', at),
        ]);
        break;
      }
    }
  };

  const tick = () => {
    const now = deps.clock.now();
    const simNow = (now - startedAt) * opts.speed;
    while (stepIndex < plan.steps.length && plan.steps[stepIndex]!.at <= simNow) {
      apply(plan.steps[stepIndex]!, now);
      stepIndex++;
    }
    // Emit rate × tick records per sending instance; carry fractions between ticks.
    carry += (opts.rate * tickMs) / 1000;
    const n = Math.floor(carry);
    carry -= n;
    if (n > 0) {
      const at = new Date(now);
      for (const { inst, agent, sending } of agents.values()) {
        if (sending) agent.send(recordsFor(inst, n, opts.traffic, trafficRng), at);
      }
    }
    if (simNow >= opts.scenario.durationMs && !done) {
      done = true;
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      resolveFinished();
    }
  };

  const lifecycle = component('simulator', {
    start() {
      startedAt = deps.clock.now();
      for (const inst of plan.initial) launch(inst, startedAt);
      ticker = setInterval(tick, tickMs);
      tick();
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      done = true;
      resolveFinished();
      const all = [...agents.values()].map((a) => a.agent);
      await Promise.all(all.map((a) => a.drain(30_000)));
      await Promise.all([...retiring, ...posts]);
      for (const a of all) a.close();
    },
  });

  return {
    ...lifecycle,
    plan,
    finished: () => finishedPromise,
    live: () => [...agents.values()].map((a) => a.inst),
    stats: () => ({
      ...counts,
      ...stats,
      live: agents.size,
      elapsedMs: startedAt ? deps.clock.now() - startedAt : 0,
      done,
    }),
  };
}
