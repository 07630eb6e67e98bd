/**
 * `fleetline simulate`: drives a simulated fleet against a running fleetline through the real
 * Forward protocol (and, by default, AWS-shaped lifecycle events over HTTP), printing progress,
 * and a final JSON summary whose `sent`/`acked` counts can be compared with fleetline's.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.ts';
import type { Deps } from '../core/deps.ts';
import type { RoleSpec } from './scenario.ts';
import { createSimulator, type Simulator, type SimulatorOptions } from './simulator.ts';
import { parseRegression } from './traffic.ts';

export const SIMULATE_USAGE = `fleetline simulate [options]

  --forward HOST:PORT     fleetline's Forward input (default 127.0.0.1:24224)
  --http URL              fleetline's HTTP API for lifecycle events (default http://127.0.0.1:9880)
  --token TOKEN           HTTP token, when fleetline has http.token set
  --shared-key KEY        Forward shared key, when fleetline has forward.shared_key set
  --roles LIST            role:size[@version],… (default web:4@1.4.2,api:3@2.0.0,worker:2@0.9.0)
  --duration D            simulated time to run (default 30m; e.g. 90s, 10m)
  --speed N               simulated time runs N times faster (default 60: a 10 min release takes 10 s)
  --rate N                records per second per instance (default 20)
  --release-every D       a rolling release every D of simulated time, round-robin (default 10m; 0 = none)
  --release-duration D    simulated time one rolling release takes (default 10m)
  --in-service-after D    simulated time from launch to in service (default 5m)
  --fault-every D         a fault replacement every D (default 15m; 0 = none)
  --max-releases N        stop after N releases (default unlimited)
  --max-faults N          stop after N faults (default unlimited)
  --error-ratio R         base 5xx ratio (default 0.02)
  --regress SPEC          make a version worse: role@version:latency=+40%[,errors=x2] (repeatable)
  --lifecycle MODE        eventbridge (default) or records (labels in records only)
  --seed N                deterministic plan and records (default 1)`;

export interface SimulateArgs {
  options: SimulatorOptions;
}

export function parseRoles(text: string): RoleSpec[] {
  return text.split(',').map((part) => {
    const m = /^([a-z0-9][a-z0-9_-]*):(\d+)(?:@(\S+))?$/i.exec(part.trim());
    if (!m) throw new Error(`--roles: cannot read "${part}" (use role:size[@version])`);
    return { role: m[1]!, size: Number(m[2]), version: m[3] ?? '1.0.0' };
  });
}

const ms = (name: string, v: string) => {
  if (v === '0') return 0;
  try {
    return parseDuration(v);
  } catch (err) {
    throw new Error(`--${name}: ${(err as Error).message}`);
  }
};

export function parseSimulateArgs(argv: string[]): SimulatorOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      forward: { type: 'string', default: '127.0.0.1:24224' },
      http: { type: 'string', default: 'http://127.0.0.1:9880' },
      token: { type: 'string' },
      'shared-key': { type: 'string' },
      roles: { type: 'string', default: 'web:4@1.4.2,api:3@2.0.0,worker:2@0.9.0' },
      duration: { type: 'string', default: '30m' },
      speed: { type: 'string', default: '60' },
      rate: { type: 'string', default: '20' },
      'release-every': { type: 'string', default: '10m' },
      'release-duration': { type: 'string', default: '10m' },
      'in-service-after': { type: 'string', default: '5m' },
      'fault-every': { type: 'string', default: '15m' },
      'max-releases': { type: 'string', default: '0' },
      'max-faults': { type: 'string', default: '0' },
      'error-ratio': { type: 'string', default: '0.02' },
      regress: { type: 'string', multiple: true, default: [] },
      lifecycle: { type: 'string', default: 'eventbridge' },
      seed: { type: 'string', default: '1' },
    },
  });
  const [host, portText] = values.forward.split(/:(?=\d+$)/);
  const port = Number(portText);
  if (!host || !Number.isInteger(port))
    throw new Error(`--forward: expected HOST:PORT, got ${values.forward}`);
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name}: expected a number ≥ ${min}, got ${v}`);
    return n;
  };
  if (values.lifecycle !== 'eventbridge' && values.lifecycle !== 'records') {
    throw new Error(`--lifecycle: expected eventbridge or records, got ${values.lifecycle}`);
  }
  return {
    scenario: {
      roles: parseRoles(values.roles),
      durationMs: ms('duration', values.duration),
      releaseEveryMs: ms('release-every', values['release-every']),
      releaseDurationMs: ms('release-duration', values['release-duration']),
      inServiceAfterMs: ms('in-service-after', values['in-service-after']),
      faultEveryMs: ms('fault-every', values['fault-every']),
      maxReleases: num('max-releases', values['max-releases'], 0),
      maxFaults: num('max-faults', values['max-faults'], 0),
    },
    traffic: {
      errorRatio: num('error-ratio', values['error-ratio'], 0),
      medianReqtime: 0.08,
      regressions: values.regress.map(parseRegression),
      labelsInRecords: true,
    },
    seed: num('seed', values.seed, 0),
    speed: num('speed', values.speed, 0.001),
    rate: num('rate', values.rate, 0),
    forward: { host, port, ...(values['shared-key'] ? { sharedKey: values['shared-key'] } : {}) },
    lifecycle: values.lifecycle,
    http: { url: values.http.replace(/\/$/, ''), ...(values.token ? { token: values.token } : {}) },
  };
}

/** Runs a simulator until its plan ends or a signal arrives; prints progress lines. */
export async function runSimulator(
  sim: Simulator,
  out: NodeJS.WritableStream,
  everyMs = 5000,
): Promise<void> {
  const progress = setInterval(() => {
    const s = sim.stats();
    out.write(
      `simulate: ${Math.round(s.elapsedMs / 1000)}s live=${s.live} sent=${s.sent} acked=${s.acked} failed=${s.failed} ` +
        `releases=${s.releases} faults=${s.faults} launches=${s.launches} terminations=${s.terminations}\n`,
    );
  }, everyMs);
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void sim.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await sim.start();
    await sim.finished();
  } finally {
    clearInterval(progress);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sim.stop();
  }
  out.write(`${JSON.stringify({ summary: sim.stats(), interrupted })}\n`);
}

export async function runSimulate(
  argv: string[],
  deps: Pick<Deps, 'log' | 'clock'>,
): Promise<number> {
  let options: SimulatorOptions;
  try {
    options = parseSimulateArgs(argv);
  } catch (err) {
    process.stderr.write(`fleetline simulate: ${(err as Error).message}\n\n${SIMULATE_USAGE}\n`);
    return 2;
  }
  const sim = createSimulator(options, deps);
  process.stdout.write(
    `simulate: ${options.scenario.roles.map((r) => `${r.role}×${r.size}@${r.version}`).join(' ')} ` +
      `for ${options.scenario.durationMs / 1000}s simulated at ${options.speed}× ` +
      `(${sim.plan.steps.filter((s) => s.kind === 'release_start').length} releases, ` +
      `${sim.plan.steps.filter((s) => s.kind === 'fault').length} faults planned)\n`,
  );
  await runSimulator(sim, process.stdout);
  const s = sim.stats();
  return s.failed > 0 ? 1 : 0;
}
