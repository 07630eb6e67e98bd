import { describe, expect, it } from 'vitest';
import { parseSimulateArgs } from '../../src/simulate/cli.ts';
import { createRng } from '../../src/simulate/random.ts';
import { nextVersion, planScenario, type ScenarioSpec } from '../../src/simulate/scenario.ts';
import { parseRegression, recordsFor } from '../../src/simulate/traffic.ts';

const spec = (over: Partial<ScenarioSpec> = {}): ScenarioSpec => ({
  roles: [
    { role: 'web', size: 3, version: '1.4.2' },
    { role: 'api', size: 2, version: '2.0.0' },
  ],
  durationMs: 60 * 60_000,
  releaseEveryMs: 20 * 60_000,
  releaseDurationMs: 10 * 60_000,
  inServiceAfterMs: 5 * 60_000,
  faultEveryMs: 0,
  ...over,
});

describe('simulate › scenario plan', () => {
  it('is identical for the same seed and different for another', () => {
    const a = planScenario(spec(), createRng(7));
    const b = planScenario(spec(), createRng(7));
    const c = planScenario(spec(), createRng(8));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.initial.map((i) => i.instanceId)).not.toEqual(c.initial.map((i) => i.instanceId));
  });

  it('replaces every member of a role one at a time during a rolling release', () => {
    const plan = planScenario(spec({ maxReleases: 1 }), createRng(1));
    const start = plan.steps.find((s) => s.kind === 'release_start');
    expect(start).toMatchObject({ role: 'web', from: '1.4.2', to: '1.4.3', at: 20 * 60_000 });
    const launches = plan.steps.filter((s) => s.kind === 'launch');
    const terminations = plan.steps.filter((s) => s.kind === 'terminate');
    expect(launches).toHaveLength(3);
    expect(terminations).toHaveLength(3);
    const oldWeb = plan.initial.filter((i) => i.role === 'web').map((i) => i.instanceId);
    expect(launches.map((l) => l.kind === 'launch' && l.replaces)).toEqual(oldWeb);
    for (const l of launches) expect(l.kind === 'launch' && l.instance.version).toBe('1.4.3');
    // One at a time: each old instance goes when its replacement is in service.
    for (const [k, t] of terminations.entries()) {
      expect(t.at - launches[k]!.at).toBe(5 * 60_000);
    }
  });

  it('replaces a faulty instance with one of the same version', () => {
    const plan = planScenario(
      spec({ releaseEveryMs: 0, faultEveryMs: 15 * 60_000, maxFaults: 2 }),
      createRng(3),
    );
    const faults = plan.steps.filter((s) => s.kind === 'fault');
    expect(faults).toHaveLength(2);
    for (const f of faults) {
      const launch = plan.steps.find(
        (s) => s.kind === 'launch' && s.replaces === (f.kind === 'fault' && f.instanceId),
      );
      const victim = plan.initial.find((i) => f.kind === 'fault' && i.instanceId === f.instanceId);
      expect(launch?.kind === 'launch' && launch.instance.version).toBe(victim?.version);
      expect(launch?.kind === 'launch' && launch.cause).toBe('fault');
    }
  });

  it('bumps the last number of a version', () => {
    expect(nextVersion('1.4.2')).toBe('1.4.3');
    expect(nextVersion('v9')).toBe('v10');
    expect(nextVersion('stable')).toBe('stable.1');
  });
});

describe('simulate › traffic', () => {
  it('reads regressions', () => {
    expect(parseRegression('web@1.4.3:latency=+40%')).toEqual({
      role: 'web',
      version: '1.4.3',
      latency: 1.4,
      errors: 1,
    });
    expect(parseRegression('api@2:errors=x3,latency=-10%')).toEqual({
      role: 'api',
      version: '2',
      latency: 0.9,
      errors: 3,
    });
    expect(() => parseRegression('web:latency=40')).toThrow(/expected role@version/);
  });

  it('makes a regressed version measurably slower', () => {
    const inst = {
      instanceId: 'i-1',
      role: 'web',
      version: '1.4.3',
      privateIp: '10.0.0.1',
      az: 'a',
    };
    const traffic = {
      errorRatio: 0.02,
      medianReqtime: 0.1,
      labelsInRecords: true,
      regressions: [] as ReturnType<typeof parseRegression>[],
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const reqtimes = (recs: ReturnType<typeof recordsFor>) =>
      recs.filter((r) => r.tag === 'app.access').map((r) => Number(r.record.reqtime));
    const base = median(reqtimes(recordsFor(inst, 5000, traffic, createRng(1))));
    const worse = median(
      reqtimes(
        recordsFor(
          inst,
          5000,
          { ...traffic, regressions: [parseRegression('web@1.4.3:latency=+40%')] },
          createRng(1),
        ),
      ),
    );
    expect(worse / base).toBeCloseTo(1.4, 1);
    const rec = recordsFor(inst, 1, traffic, createRng(2))[0]!;
    expect(rec.record).toMatchObject({ instance_id: 'i-1', role: 'web', version: '1.4.3' });
  });
});

describe('simulate › arguments', () => {
  it('has defaults matching a real rolling-release cadence', () => {
    const o = parseSimulateArgs([]);
    expect(o.scenario.releaseDurationMs).toBe(10 * 60_000);
    expect(o.scenario.inServiceAfterMs).toBe(5 * 60_000);
    expect(o.forward).toEqual({ host: '127.0.0.1', port: 24224 });
    expect(o.lifecycle).toBe('eventbridge');
  });

  it('says which flag is wrong', () => {
    expect(() => parseSimulateArgs(['--roles', 'web=3'])).toThrow(/--roles: cannot read "web=3"/);
    expect(() => parseSimulateArgs(['--duration', 'forever'])).toThrow(
      /--duration: not a duration/,
    );
    expect(() => parseSimulateArgs(['--lifecycle', 'carrier-pigeon'])).toThrow(/--lifecycle/);
  });
});
