import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.ts';
import { parseConfig } from '../../src/config/load.ts';
import { problemsOf } from './problems.ts';

// Node's timers hold at most 2^31 − 1 ms (~24.8 days); a longer delay fires after 1 ms.
const TIMER_MAX_MS = 2 ** 31 - 1;

describe('config › duration bounds', () => {
  it('refuses a timer duration longer than a Node timer can wait, with its key path', () => {
    // idle_timeout: 30d would close every Forward connection after 1 ms of silence, and
    // influxdb.timeout: 25d would abort every write at once.
    const problems = problemsOf(() =>
      parseConfig({
        forward: { idle_timeout: '30d' },
        influxdb: { url: 'http://127.0.0.1:8086', timeout: '25d' },
        spool: { backpressure_timeout: '9999999h' },
        grafana: { regenerate_interval: '100d' },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^forward\.idle_timeout: must be at most 24d/),
      expect.stringMatching(/^influxdb\.timeout: must be at most 24d/),
      expect.stringMatching(/^spool\.backpressure_timeout: must be at most 24d/),
      expect.stringMatching(/^grafana\.regenerate_interval: must be at most 24d/),
    ]);
  });

  it('refuses 0 where it would mean spinning: polls, retries and request timeouts', () => {
    const problems = problemsOf(() =>
      parseConfig({
        forward: { handshake_timeout: '0s' },
        influxdb: { url: 'http://127.0.0.1:8086', timeout: '0ms', min_retry_delay: '0s' },
        spool: { retry_initial: '0s' },
        registry: {
          static: { path: '/x.yaml', reload: '0s' },
          ec2: { region: 'eu-west-1', refresh_interval: '0m' },
        },
        rollup: { interval: '0s' },
        grafana: { regenerate_interval: '0.0s' },
      }),
    );
    expect(problems.sort()).toEqual(
      [
        'forward.handshake_timeout',
        'grafana.regenerate_interval',
        'influxdb.min_retry_delay',
        'influxdb.timeout',
        'registry.ec2.refresh_interval',
        'registry.static.reload',
        'rollup.interval',
        'spool.retry_initial',
      ].map((k) =>
        expect.stringMatching(new RegExp(`^${k.replace(/\./g, '\\.')}: must be at least 1ms`)),
      ),
    );
  });

  it('reports a bound together with the other problems, all at once', () => {
    const problems = problemsOf(() =>
      parseConfig({ bogus: 1, http: { port: 'x' }, forward: { idle_timeout: '40d' } }),
    );
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining(['bogus: unknown key', 'http.port: must be integer']),
    );
  });

  it('still accepts 0 where it has a meaning, and long spans for what is not a timer', () => {
    const { config } = parseConfig({
      forward: { idle_timeout: '0s' },
      registry: { unknown: { hold: '0s' }, replace_window: '90d' },
      spool: { commit_interval: '0ms', backpressure_timeout: '0s' },
      rollup: { retention: '400d', lateness: '0s', grace: '0s' },
      lifecycle: { idle_terminate: '60d' },
    });
    expect(config.rollup.retention).toBe('400d');
    expect(config.lifecycle.idle_terminate).toBe('60d');
    expect(parseDuration(config.registry.replace_window)).toBeGreaterThan(TIMER_MAX_MS);
  });

  it('accepts the largest timer duration it documents', () => {
    const { config } = parseConfig({ forward: { idle_timeout: '24d' } });
    expect(parseDuration(config.forward.idle_timeout)).toBeLessThanOrEqual(TIMER_MAX_MS);
  });

  it('applies the bounds to environment overrides too', () => {
    expect(
      problemsOf(() => parseConfig({}, { env: { FLEETLINE_SPOOL_STOP_TIMEOUT: '365d' } })),
    ).toEqual([expect.stringMatching(/^spool\.stop_timeout: must be at most 24d/)]);
  });
});
