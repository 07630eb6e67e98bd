import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { metricValue } from '../helpers/deps.ts';
import { eventually, startService } from '../helpers/service.ts';

interface ApiEvent {
  kind: string;
  role: string;
  cause?: string;
  oldInstanceId?: string;
  newInstanceId?: string;
  oldVersion?: string;
  newVersion?: string;
  slot?: number;
}

describe('fleetline simulate against a running fleetline', () => {
  it('one rolling release and one fault replacement yield exactly the expected registry, events and rollups, losing nothing', async () => {
    const service = await startService({ registry: { records: {} }, rollup: { interval: '1s' } });
    try {
      // 20 simulated minutes at 120×: a release at 6m (3 instances, one a minute) and a fault at 14m.
      const run = await runCli(
        [
          'simulate',
          `--forward=127.0.0.1:${service.forwardPort}`,
          `--http=${service.url}`,
          '--roles=web:3@1.4.2',
          '--duration=20m',
          '--speed=120',
          '--rate=10',
          '--release-every=6m',
          '--release-duration=3m',
          '--in-service-after=1m',
          '--fault-every=14m',
          '--max-releases=1',
          '--max-faults=1',
          '--seed=42',
        ],
        { timeoutMs: 60_000 },
      );
      expect(run.code, run.stderr + run.stdout).toBe(0);
      const summaryLine = run.stdout.trim().split('\n').at(-1)!;
      const { summary } = JSON.parse(summaryLine) as {
        summary: { sent: number; acked: number; failed: number; releases: number; faults: number };
      };
      expect(summary).toMatchObject({ releases: 1, faults: 1, failed: 0 });
      expect(summary.sent).toBeGreaterThan(200);
      // Nothing lost: every record the simulator sent was accepted by fleetline.
      expect(summary.acked).toBe(summary.sent);
      expect(await metricValue(service.deps, 'fleetline_forward_events_accepted_total')).toBe(
        summary.sent,
      );

      // Registry: 3 live web members, all on the new version, slots 0..2 reused.
      const roles = (await (await fetch(`${service.url}/api/roles`)).json()) as {
        roles: { role: string; members: number; versions: string[]; slots: number[] }[];
      };
      const web = roles.roles.find((r) => r.role === 'web');
      expect(web).toMatchObject({ members: 3, slots: [0, 1, 2] });

      // Events: exactly 4 replacements (3 release, 1 fault) with inherited slots; one rollout.
      const body = (await (
        await fetch(`${service.url}/api/events?role=web&limit=1000`)
      ).json()) as { events: ApiEvent[] };
      const replaces = body.events.filter((e) => e.kind === 'replace');
      expect(replaces).toHaveLength(4);
      expect(replaces.filter((e) => e.cause === 'release')).toHaveLength(3);
      expect(replaces.filter((e) => e.cause === 'fault')).toHaveLength(1);
      for (const r of replaces.filter((e) => e.cause === 'release')) {
        expect(r).toMatchObject({ oldVersion: '1.4.2', newVersion: '1.4.3' });
      }
      expect(new Set(replaces.map((r) => r.slot)).size).toBeGreaterThanOrEqual(3);
      expect(body.events.filter((e) => e.kind === 'rollout_start')).toHaveLength(1);
      expect(body.events.filter((e) => e.kind === 'rollout_finish')).toHaveLength(1);
      expect(body.events.filter((e) => e.kind === 'launch')).toHaveLength(7);
      expect(body.events.filter((e) => e.kind === 'terminate')).toHaveLength(4);

      // Rollups: every accepted record counted once across versions of the role.
      const total = await eventually(
        async () => {
          const res = (await (
            await fetch(`${service.url}/api/rollups?role=web&since=0&limit=10000`)
          ).json()) as { rollups: { fields: Record<string, number> }[]; truncated: boolean };
          expect(res.truncated).toBe(false);
          const n = res.rollups.reduce((s, r) => s + (r.fields.events ?? 0), 0);
          return n >= summary.sent ? n : undefined;
        },
        20_000,
        'rollups covering every record',
      ).catch(async (e) => {
        const all = (await (
          await fetch(`${service.url}/api/rollups?since=0&limit=10000`)
        ).json()) as {
          rollups: { role: string; measurement: string; fields: Record<string, number> }[];
        };
        const by: Record<string, number> = {};
        for (const r of all.rollups)
          by[`${r.role}/${r.measurement}`] =
            (by[`${r.role}/${r.measurement}`] ?? 0) + (r.fields.events ?? 0);
        console.log(
          'DEBUG',
          summary.sent,
          JSON.stringify(by),
          JSON.stringify(service.spool.stats()),
        );
        throw e;
      });
      expect(total).toBe(summary.sent);
    } finally {
      await service.stop();
    }
  }, 90_000);
});
